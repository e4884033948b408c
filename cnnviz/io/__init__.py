"""Input and output: the offline data sets (digits, shapes, a Fashion-MNIST subset read from IDX files by
``idx``), image decoding (every Pillow mode) and PNG export, user uploads
(ZIP, images, checkpoint archives) checked on their declared sizes before decoding, the upload budgets
(``budgets``), the shipped photographs (``photos``), a cache bounded in entries, bytes and age, and text
escaping for Markdown and plotly labels.

Used by every room that reads data. May import: cnnviz.errors, numpy, torch, pillow, scikit-learn."""
from cnnviz.io.text import (md_text, plot_text)
from cnnviz.io.data import (DATASETS, SHAPE_CLASSES, VAL_FRACTION, Dataset, split, load_digits, make_shapes,
    load_shapes, load_dataset, samples_per_class, DATASET_TITLES, FASHION_CLASSES, load_fashion)
from cnnviz.io.idx import read_idx, write_idx
from cnnviz.io import budgets
from cnnviz.io.images import (MAX_BYTES, MAX_PIXELS, FORMATS, EXTENSIONS, decode, resize, to_model_input,
    load_image, to_pil, png_bytes, save_png, list_samples, to_rgb, to_rgb_resized)
from cnnviz.io.uploads import (IMAGE_TYPES, MAX_ZIP_BYTES, MAX_TOTAL_BYTES, MAX_FILES, MAX_RATIO, MIN_PER_CLASS,
    MAX_CLASSES, IGNORED, MAX_DECODED, load_zip, stratified_split, check_torch_archive, load_weights)
from cnnviz.io.cache import BoundedCache
from cnnviz.io.photos import (PHOTOS_DIR, Photo, list_photos, photo_names, photo_title, photo_info, photo_bytes,
    load_photo, picture_from_bytes)

__all__ = ["md_text", "plot_text", "DATASET_TITLES", "FASHION_CLASSES", "load_fashion", "read_idx", "write_idx",
           "DATASETS", "SHAPE_CLASSES", "VAL_FRACTION", "Dataset", "split", "load_digits",
           "make_shapes", "load_shapes", "load_dataset", "samples_per_class", "MAX_BYTES", "MAX_PIXELS", "FORMATS",
           "EXTENSIONS", "decode", "resize", "to_model_input", "load_image", "to_pil", "png_bytes", "save_png",
           "list_samples", "IMAGE_TYPES", "MAX_ZIP_BYTES", "MAX_TOTAL_BYTES", "MAX_FILES", "MAX_RATIO",
           "MIN_PER_CLASS", "MAX_CLASSES", "IGNORED", "load_zip", "stratified_split", "budgets", "to_rgb",
           "to_rgb_resized", "MAX_DECODED", "check_torch_archive", "load_weights", "BoundedCache",
           "PHOTOS_DIR", "Photo", "list_photos", "photo_names", "photo_title", "photo_info", "photo_bytes", "load_photo",
           "picture_from_bytes"]
