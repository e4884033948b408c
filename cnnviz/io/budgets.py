"""The limits on what a user may upload, in one place: bytes on disk, but also what the bytes decode to
(archive members' uncompressed sizes, image pixels), what a checkpoint's spec may declare, and how long
and how much the server keeps of it. Every check runs on declared sizes, by arithmetic, before anything is
decoded or allocated; each refusal is a :class:`cnnviz.errors.ConfigError` that names the limit.

Importing this module imports nothing (not even torch), so any room may read it."""

MiB = 2 ** 20

# --- one image (Feature Maps, Saliency, Network Explorer)
IMAGE_FILE_BYTES = 5 * MiB                 # the uploaded file
IMAGE_PIXELS = 25_000_000                  # width × height from the header, before decoding (5000×5000)

# --- a ZIP of images (Training Lab's own data set)
ZIP_FILE_BYTES = 20 * MiB                  # the uploaded file
ZIP_UNCOMPRESSED_BYTES = 200 * MiB         # sum of the members' declared uncompressed sizes
ZIP_MAX_FILES = 5000                       # entries in the archive
ZIP_MAX_RATIO = 200                        # uncompressed / compressed size of one member (over 1 MiB)
ZIP_IMAGE_PIXELS = 4096 * 4096             # width × height of one image, from its header
ZIP_DECODED_VALUES = 256 * MiB             # Σ width × height × bands over the whole ZIP, from the headers:
#                                            what decoding would produce (≈ 256 MB of 8-bit samples, a few s)
DATASET_BYTES = 64 * MiB                   # the decoded data set: images × 3 × size² × 4 bytes (float32)

# --- a checkpoint (torch.save's ZIP archive)
CHECKPOINT_FILE_BYTES = 20 * MiB           # the uploaded file
CHECKPOINT_DECODED_BYTES = 64 * MiB        # sum of the archive members' declared uncompressed sizes
CHECKPOINT_MAX_MEMBERS = 2048              # records in the archive (one per tensor storage, plus a few)
CHECKPOINT_MAX_RATIO = 20                  # uncompressed / compressed size of one member over 64 KiB
#                                            (torch.save stores members uncompressed: ratio 1; float weights
#                                            deflate to ~1.1:1; a member of zeros deflates ~1000:1)
CHECKPOINT_RATIO_MIN_BYTES = 64 * 1024
CHECKPOINT_JSON_CHARS = 256 * 1024         # each JSON field (spec, config, extra): 1000 class names fit

# --- what a checkpoint's spec may declare (checked before any module is built)
SPEC_IN_CHANNELS = (1, 3)                  # the pages feed grey or RGB images
SPEC_MAX_SIZE = 128                        # input side in pixels
SPEC_MIN_SIZE = 4
SPEC_MAX_WIDTH = 256                       # the TrainConfig limit
SPEC_MAX_CLASSES = 1000
SPEC_MAX_CLASS_NAME = 100                  # characters in one class name
MAX_EPOCHS = 500                           # the TrainConfig limit
MAX_STEPS = 10 ** 9

# --- what the server keeps (the pages' caches of decoded uploads)
UPLOAD_CACHE_ENTRIES = 8                   # decoded data sets kept, all sessions together
UPLOAD_CACHE_BYTES = 256 * MiB            # all decoded data sets together (each ≤ DATASET_BYTES)
UPLOAD_CACHE_TTL_S = 3600                  # a decoded upload is dropped an hour after it was made
DECODE_WORKERS = 2                         # ZIPs decoded at once, all sessions together (off the script thread)
MODEL_CACHE_ENTRIES = 8                    # uploaded models kept (each ≤ CHECKPOINT_DECODED_BYTES)
MODEL_CACHE_TTL_S = 3600
