"""Every limit on what one request (a link, a typed stack, a widget) may make this shared server compute or
allocate, in one place. A class shares one web process: each path that allocates from user-controlled sizes
checks its cost against these by arithmetic first and refuses with a ConfigError that names the limit.
The modules that enforce a limit re-export it, so its callers import it from there
(``cnnviz.architecture.MAX_STACK_FLOPS`` ...)."""
from __future__ import annotations

# --- links: what a query string may carry, and how much of it a notice shows
MAX_QUERY_VALUE_CHARS = 2_000       # one ?key=value; longer is ignored with a notice, before any parsing
MAX_SHOWN_CHARS = 80                # a user-controlled string quoted in a notice or error, then "…"
MAX_LINK_CHARS = 4_000              # the builder's ``stack=`` token (a link that long works in every browser)
MAX_STACK_JSON = 64_000             # bytes of stack JSON after decompression: a deflate bomb stops here

# --- integers in a spec: PyTorch's sizes are C ints/longs; far beyond any teachable layer anyway
MAX_INT = 2**31 - 1

MAX_RF_LAYERS = 64                  # rows of a receptive-field stack: keeps r and j under ~600 digits
MAX_COVERAGE_CELLS = 256            # a stack's receptive field (one axis) drawn as a gridding coverage map (r² cells)

# --- an Architecture Lab stack: built and run once (batch 1) for its summary
MAX_STACK_PARAMS = 20_000_000       # all weights: 80 MB in float32
MAX_STACK_ACTIVATIONS = 16_000_000  # the input plus all layer outputs for one input (the summary keeps them): 64 MB
MAX_STACK_FLOPS = 20_000_000_000    # one forward pass: a few seconds on one CPU core
MAX_SUMMARY_INPUT = MAX_STACK_ACTIVATIONS  # elements of the input ``summarize`` allocates, for any model

# --- one layer (Conv Arithmetic) built and run live to check the formulas against PyTorch
MAX_BUILD_PARAMS = 50_000_000       # ~200 MB of weights for one layer
MAX_ELEMENTS = 2_000_000            # input or output elements; above this the layer is not run live
MAX_FLOPS = 2_000_000_000

# --- step-by-step animations
MAX_STEPS = 4096                    # output elements (one animation frame each)
MAX_TAPS = 1 << 18                  # steps × kernel taps: the size of all windows together
MAX_LENGTH = 32                     # a 1-D signal's length

# ======================================================================= uploads (cnnviz.io.budgets' names)
# Bytes on disk, but also what the bytes decode to (archive members' uncompressed sizes, image pixels), what a
# checkpoint's spec may declare, and how long and how much the server keeps of it.
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

# --- the same file limits as Streamlit's (whole MiB): each uploader's max_upload_size makes the browser refuse a
# larger file before sending it (and its drop zone says "5MB per file", not Streamlit's default 200); the server's
# own cap, server.maxUploadSize in .streamlit/config.toml, is the largest of them (a test keeps them equal)
IMAGE_UPLOAD_MB = IMAGE_FILE_BYTES // MiB
ZIP_UPLOAD_MB = ZIP_FILE_BYTES // MiB
CHECKPOINT_UPLOAD_MB = CHECKPOINT_FILE_BYTES // MiB
SERVER_UPLOAD_MB = max(IMAGE_UPLOAD_MB, ZIP_UPLOAD_MB, CHECKPOINT_UPLOAD_MB)

# --- what a checkpoint's spec may declare (checked before any module is built)
SPEC_IN_CHANNELS = (1, 3)                  # the pages feed grey or RGB images
SPEC_MAX_SIZE = 128                        # input side in pixels
SPEC_MIN_SIZE = 4
SPEC_MAX_WIDTH = 256                       # the TrainConfig limit
SPEC_MAX_CLASSES = 1000
SPEC_MAX_CLASS_NAME = 100                  # characters in one class name
MAX_EPOCHS = 500                           # the TrainConfig limit
CHECKPOINT_MAX_STEPS = 10 ** 9
# |value| of any weight or buffer: trained layers stay many orders below it; beyond it a forward pass overflows to
# inf/NaN in float32 (1e38 weights reach float32's limit within one layer), so the upload is refused at load.
CHECKPOINT_MAX_ABS = 1e6

# --- what the server keeps (the pages' caches of decoded uploads)
UPLOAD_CACHE_ENTRIES = 8                   # decoded data sets kept, all sessions together
UPLOAD_CACHE_BYTES = 256 * MiB            # all decoded data sets together (each ≤ DATASET_BYTES)
UPLOAD_CACHE_TTL_S = 3600                  # a decoded upload is dropped an hour after it was made
DECODE_WORKERS = 2                         # ZIPs decoded at once, all sessions together (off the script thread)
MODEL_CACHE_ENTRIES = 8                    # uploaded models kept (each ≤ CHECKPOINT_DECODED_BYTES)
MODEL_CACHE_TTL_S = 3600

# --- tensors handed to an engine entry point (cnnviz.checks)
MAX_TENSOR_NUMEL = 50_000_000       # 200 MB of float32: more than any tensor a page makes

# --- the Architecture Lab's drawn blocks (closed-form counts: nothing of this size is allocated)
SHUFFLE_MAX_CHANNELS = 64                  # channels drawn one cell each
VIDEO_MAX_FRAMES = 64                      # frames T of the clip
VIDEO_MAX_SIZE = 224                       # H and W of the clip
VIDEO_MAX_CHANNELS = 512                   # C_in and C_out
VIDEO_MAX_KERNEL = 7                       # k (spatial) and t (temporal)
PATCH_MAX_IMAGE = 512                      # image side for the patch-embedding grid
PATCH_MAX_DIM = 1024                       # embedding width d
DYNAMIC_MAX_EXPERTS = 16                   # K kernels of the dynamic conv

# --- a live class (cnnviz.classroom.live): a join code, a teacher key, students with nicknames, their answers
CLASS_MAX_STUDENTS = 60                    # students in one class (a lecture hall's worth; one server serves them)
CLASS_LIFETIME_S = 3 * 3600                # a class is deleted 3 h after it starts (or when the teacher ends it)
CLASS_MAX_OPEN = 200                       # classes open at once in one store (start_class is open to anyone)
CLASS_CODE_LENGTH = 6                      # join-code characters from a 31-letter alphabet: 31**6 ≈ 8.9e8 codes
CLASS_NICKNAME_CHARS = 24                  # characters in a nickname (after NFC and stripping)
CLASS_JOIN_BURST = 5                       # failed join attempts an address may make at once ...
CLASS_JOIN_REFILL_S = 10.0                 # ... and one more every this many seconds
CLASS_MAX_ADDRESSES = 10_000               # client addresses the join limiter remembers
CLASS_MAX_QUESTIONS = 200                  # answers one student may record in one class
CLASS_ANSWER_CHARS = 64                    # characters in a question id or an answer
CLASS_LINK_CHARS = 1024                    # characters in a link the teacher pushes

# --- uploads held by the server (cnnviz.ui.upload_caps) and images decoded (cnnviz.io.images)
UPLOAD_SESSION_FILES = 4                   # files one session may hold at once (a ZIP + a checkpoint, and a swap)
UPLOAD_SESSION_BYTES = 3 * SERVER_UPLOAD_MB * MiB  # bytes one session may hold at once (60 MiB)
UPLOAD_TOTAL_FILES = 256                   # files all sessions together may hold
UPLOAD_TOTAL_BYTES = 640 * MiB             # bytes all sessions together may hold (32 full-size uploads)
UPLOAD_UNCLAIMED_S = 120                   # an upload no widget has asked for is dropped after this many seconds
IMAGE_DECODED_BYTES = 3 * IMAGE_PIXELS     # width × height × bytes per pixel of the decoded mode: a 5000×5000 8-bit RGB
IMAGE_CACHE_ENTRIES = 64                   # model inputs made from uploaded images, kept (tiny tensors) ...
IMAGE_CACHE_BYTES = 64 * MiB               # ... in all at most this many bytes ...
IMAGE_CACHE_TTL_S = 3600                   # ... and for at most an hour

# --- a class group: compatible trainings run as one computation (cnnviz.training.group)
MAX_GROUP_BYTES = 4096 * MiB               # one group's estimated tensors (CNNVIZ_MAX_GROUP_MB overrides)
MAX_GROUP_SIZE = 64                        # members of one group: one stacked forward / backward per step

# --- sizes an animation helper allocates from its arguments (overlap counts, untouched inputs, border masks)
ANIMATION_MAX_SIDE = 64                    # rows or columns of such a grid (the pages offer at most 16)
CLASS_MAX_RUNS = 20                        # finished Training Lab runs one student may share with the class's teacher
CLASS_MAX_DRAWINGS = 12                    # drawings one student may share with the class's teacher
CLASS_CURVE_POINTS = 60                    # per-epoch validation accuracies kept with one shared run
CLASS_DRAWING_SIDE = 28                    # a shared drawing is the model's 28×28 uint8 view of it

# --- feature visualisation by optimisation (cnnviz.inside.feature_vis): gradient ascent on the input
FEATURE_VIS_MAX_STEPS = 512                # optimisation steps of one visualisation
FEATURE_VIS_MAX_IMAGES = 6                 # images per channel (the diversity option)
FEATURE_VIS_MAX_PIXELS = 128 * 128         # H × W of the optimised image (the model's input size)
FEATURE_VIS_MAX_FLOPS = 30_000_000_000     # steps × images × 3 forward passes (forward + backward): ~10 s on a core
