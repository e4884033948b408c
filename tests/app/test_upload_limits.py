"""Every file uploader of the app tells the browser our own limit (its drop zone says "5MB per file" and a larger
file is refused before it is sent), and the server's own cap (.streamlit/config.toml's server.maxUploadSize) is
the largest of those limits, not Streamlit's default 200 MB."""
import tomllib

from tests.support import apptest
from cnnviz.limits import (CHECKPOINT_FILE_BYTES, CHECKPOINT_UPLOAD_MB, IMAGE_FILE_BYTES, IMAGE_UPLOAD_MB, MiB,
                           SERVER_UPLOAD_MB, ZIP_FILE_BYTES, ZIP_UPLOAD_MB)


def uploaders(at) -> dict:
    return {u.proto.label: u.proto.max_upload_size_mb for u in at.get("file_uploader")}


def test_the_limits_are_whole_mib_and_the_server_cap_is_the_largest():
    assert (IMAGE_UPLOAD_MB * MiB, ZIP_UPLOAD_MB * MiB, CHECKPOINT_UPLOAD_MB * MiB) == (
        IMAGE_FILE_BYTES, ZIP_FILE_BYTES, CHECKPOINT_FILE_BYTES)  # Streamlit's MB are MiB (1024 * 1024)
    config = tomllib.loads((apptest.ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == SERVER_UPLOAD_MB == 20


def test_training_lab_zip_and_checkpoint_uploaders_carry_their_limits():
    at = apptest.open_page("training_lab")
    at.radio(key="train_data").set_value("own ZIP").run()
    assert not at.exception, at.exception
    assert uploaders(at) == {"ZIP with one folder per class": ZIP_UPLOAD_MB,
                             "Checkpoint to resume from (optional)": CHECKPOINT_UPLOAD_MB}


def test_feature_maps_checkpoint_and_image_uploaders_carry_their_limits():
    at = apptest.open_page("feature_maps", {"model": "upload", "src": "upload"})
    assert uploaders(at) == {"Checkpoint": CHECKPOINT_UPLOAD_MB}  # the page waits for the checkpoint first
    at = apptest.open_page("feature_maps", {"src": "upload"})
    assert uploaders(at) == {"Image file": IMAGE_UPLOAD_MB}
