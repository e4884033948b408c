"""The limits on what a user may upload (their values are in :mod:`cnnviz.limits`, with every other limit):
bytes on disk, but also what the bytes decode to (archive members' uncompressed sizes, image pixels and their
decoded bytes, mode × pixels), what a checkpoint's spec may declare, and how long and how much the server keeps of it. Every check runs on declared
sizes, by arithmetic, before anything is decoded or allocated; each refusal is a
:class:`cnnviz.errors.ConfigError` that names the limit.

Importing this module imports nothing (not even torch), so any room may read it."""
# The values live in cnnviz.limits (every limit in one place); this module keeps the names the upload code uses.
from cnnviz.limits import (  # noqa: F401
    MiB, IMAGE_FILE_BYTES, IMAGE_PIXELS, ZIP_FILE_BYTES, ZIP_UNCOMPRESSED_BYTES,
    ZIP_MAX_FILES, ZIP_MAX_RATIO, ZIP_IMAGE_PIXELS, ZIP_DECODED_VALUES,
    DATASET_BYTES, CHECKPOINT_FILE_BYTES, CHECKPOINT_DECODED_BYTES, CHECKPOINT_MAX_MEMBERS,
    CHECKPOINT_MAX_RATIO, CHECKPOINT_RATIO_MIN_BYTES, CHECKPOINT_JSON_CHARS, SPEC_IN_CHANNELS,
    SPEC_MAX_SIZE, SPEC_MIN_SIZE, SPEC_MAX_WIDTH, SPEC_MAX_CLASSES,
    SPEC_MAX_CLASS_NAME, MAX_EPOCHS, CHECKPOINT_MAX_STEPS, CHECKPOINT_MAX_ABS, UPLOAD_CACHE_ENTRIES,
    UPLOAD_CACHE_BYTES, UPLOAD_CACHE_TTL_S, DECODE_WORKERS, MODEL_CACHE_ENTRIES,
    MODEL_CACHE_TTL_S, IMAGE_UPLOAD_MB, ZIP_UPLOAD_MB, CHECKPOINT_UPLOAD_MB, SERVER_UPLOAD_MB,
    IMAGE_DECODED_BYTES, IMAGE_CACHE_ENTRIES, IMAGE_CACHE_BYTES, IMAGE_CACHE_TTL_S)

MAX_STEPS = CHECKPOINT_MAX_STEPS  # a checkpoint's step counter (not the animations' MAX_STEPS)
