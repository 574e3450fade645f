"""Datasets for the course: what each one is (DATASETS) and how it is loaded.

`course_lib.data.DATASETS` is the one description of every dataset (image shape,
class names, default split sizes, the lessons' cap, the PyTorch trainer's preset,
and the function that reads it); everything else in course_lib reads it from
there, so adding a dataset is one new entry in this file.

* "digits" (DEFAULT_DATASET): the handwritten digits that ship inside
  scikit-learn, so it needs no network. Split, stratified by class and seeded,
  into training, validation and test images.
* "cifar10": the official python archive of CIFAR-10, downloaded once over
  HTTPS, checked against its SHA-256 and cached. The test split is CIFAR's own
  test batch; the validation split is carved out of the training batches with a
  seeded permutation.

The default dataset, one rule everywhere: wherever course_lib takes a dataset
name (load_dataset, lesson_data, torch_train.TrainConfig, `course
train-convnet`) or a size that depends on it (the models' input_dim and
num_classes), leaving it out (None) means default_dataset_name(): the
COURSE_DATASET environment variable when set, else DEFAULT_DATASET.

The CIFAR-10 archive is cached in data_dir (default: env COURSE_DATA_DIR, else
~/.cache/course_lib). A download goes to a temporary file that is renamed
into the cache only once complete and checksum-verified; the cached archive
is re-verified (SHA-256, under a second) on every load before it is unpickled.
"""

import hashlib
import math
import os
import pickle
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from course_lib.checks import check_choice, check_count
from course_lib.data.preprocessing import fit_mean_image


@dataclass(frozen=True)
class DatasetInfo:
    """What the rest of course_lib needs to know about one dataset.

    - name: the name load_dataset takes.
    - image_shape: (C, H, W) of one image.
    - class_names: one name per class, in label order.
    - num_val, num_test: the default validation and test split sizes (num_test None:
      the dataset's whole test set).
    - lesson_train: at most this many training images in a lesson on a CPU (None: all).
    - trainer_preset: the PyTorch trainer's defaults for this dataset (epochs,
      batch_size, widths of the pooling stages, crop_padding, flip).
    - read: read(info, num_val, num_test, seed, data_dir) -> dict of uint8 images
      (N, C, H, W) 0..255 and int64 labels: X_train, y_train, X_val, y_val, X_test,
      y_test, and class_names (a list); the split is seeded by `seed`.
    """

    name: str
    image_shape: tuple
    class_names: tuple
    num_val: int
    num_test: int | None
    lesson_train: int | None
    trainer_preset: dict = field(default_factory=dict)
    read: Callable | None = field(default=None, repr=False, compare=False)

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def input_dim(self):
        """The size of one flattened image, C * H * W."""
        return math.prod(self.image_shape)


def _read_digits(info, num_val, num_test, seed, data_dir):
    """Split scikit-learn's digits (as uint8 0..255 images) stratified by class; data_dir is unused."""
    # imported here: scikit-learn takes a second to import, and only digits need it
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.rint(digits.images * (255 / 16)).astype(np.uint8)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    if num_val + num_test >= len(labels):
        raise ValueError(f"num_val + num_test must be below {len(labels)} for digits, got {num_val + num_test}")
    X_rest, X_test, y_rest, y_test = train_test_split(
        images, labels, test_size=num_test, stratify=labels, random_state=seed
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=num_val, stratify=y_rest, random_state=seed
    )
    return {
        "X_train": X_train,
        "y_train": y_train,
        "X_val": X_val,
        "y_val": y_val,
        "X_test": X_test,
        "y_test": y_test,
        "class_names": list(info.class_names),
    }


def _read_cifar10(info, num_val, num_test, seed, data_dir):
    """Read CIFAR-10 (downloading it once) and carve a seeded validation split."""
    X_train, y_train, X_test, y_test, class_names = _unpickle_cifar10(download_cifar10(data_dir))
    if num_val >= len(y_train):
        raise ValueError(f"num_val must be below {len(y_train)} for cifar10, got {num_val}")
    num_test = len(y_test) if num_test is None else num_test
    if num_test > len(y_test):
        raise ValueError(f"num_test must be at most {len(y_test)} for cifar10, got {num_test}")
    order = np.random.default_rng(seed).permutation(len(y_train))
    val, train = np.sort(order[:num_val]), np.sort(order[num_val:])
    return {
        "X_train": X_train[train],
        "y_train": y_train[train],
        "X_val": X_train[val],
        "y_val": y_train[val],
        "X_test": X_test[:num_test],
        "y_test": y_test[:num_test],
        "class_names": class_names,
    }


# Digits are not mirror-symmetric (a flipped 2 is no digit), so their preset has no flips.
DATASETS = {
    "digits": DatasetInfo(
        name="digits",
        image_shape=(1, 8, 8),
        class_names=tuple(str(digit) for digit in range(10)),
        num_val=270,
        num_test=270,
        lesson_train=None,
        trainer_preset={"epochs": 12, "batch_size": 128, "widths": (32, 64), "crop_padding": 1, "flip": False},
        read=_read_digits,
    ),
    "cifar10": DatasetInfo(
        name="cifar10",
        image_shape=(3, 32, 32),
        class_names=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        num_val=1000,
        num_test=None,
        lesson_train=5000,
        trainer_preset={"epochs": 10, "batch_size": 512, "widths": (64, 256, 256), "crop_padding": 4, "flip": True},
        read=_read_cifar10,
    ),
}
DATASET_NAMES = tuple(DATASETS)
DEFAULT_DATASET = "digits"  # the dataset used when none is named and COURSE_DATASET is not set

# The official python version of CIFAR-10 (Krizhevsky, 2009). The SHA-256 is the
# one published by Keras and torchvision users for this exact file
# (170,498,071 bytes, MD5 c58f30108f718f92721af3b95e74349a).
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
CIFAR10_FILENAME = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.uint8))
_CHUNK_BYTES = 1 << 20


def default_dataset_name():
    """Return the dataset to use when none is named: env COURSE_DATASET, else DEFAULT_DATASET.

    This is the one rule for "the default dataset" (see the module docstring).
    Raises ValueError listing the valid names when COURSE_DATASET holds another.
    """
    return check_choice("COURSE_DATASET", os.environ.get("COURSE_DATASET", DEFAULT_DATASET), DATASET_NAMES)


def dataset_info(name=None, argument="name"):
    """Return the DatasetInfo of `name`, or of default_dataset_name() when name is None.

    Raises ValueError naming `argument` and listing the valid names for an unknown name.
    """
    return DATASETS[check_choice(argument, default_dataset_name() if name is None else name, DATASET_NAMES)]


def lesson_data(dataset=None, max_train=None):
    """Load the dataset a lesson runs on and print one line describing it: every lesson's set-up.

    Inputs:
    - dataset: a name of DATASETS, or None for default_dataset_name().
    - max_train: keep at most this many training images (a seeded subset);
      None means the dataset's lesson_train (None there: all of them).

    Returns load_dataset's dict (float64, training mean image subtracted) with
    three more keys: "info" (the DatasetInfo), "num_classes" and "input_dim".
    """
    info = dataset_info(dataset, "dataset")
    cap = info.lesson_train if max_train is None else check_count("max_train", max_train)
    data = _load(info, cap, None, None, np.float64, subtract_mean=True, seed=0, data_dir=None, at_most=True)
    data.update(info=info, num_classes=info.num_classes, input_dim=info.input_dim)
    print(
        f"{info.name}: {len(data['y_train'])} training, {len(data['y_val'])} validation and "
        f"{len(data['y_test'])} test images of shape {info.image_shape}, {info.num_classes} classes"
    )
    return data


def default_data_dir():
    """Return the cache folder: env COURSE_DATA_DIR, else ~/.cache/course_lib."""
    return Path(os.environ.get("COURSE_DATA_DIR", Path.home() / ".cache" / "course_lib"))


def load_dataset(
    name=None,
    num_train=None,
    num_val=None,
    num_test=None,
    dtype=np.float64,
    subtract_mean=True,
    seed=0,
    data_dir=None,
):
    """Load a dataset as train/validation/test splits of (N, C, H, W) images.

    Inputs:
    - name: a name of DATASETS ("digits": no network; "cifar10": downloaded
      once into data_dir), or None for default_dataset_name().
    - num_train: keep only this many training images (a seeded subset), or
      None for all that remain after the validation split.
    - num_val: validation images; None means the dataset's num_val.
    - num_test: test images; None means the dataset's num_test (for cifar10
      all 10000 of its test batch; a smaller num_test keeps the first ones).
    - dtype: np.float64 or np.float32: pixels scaled to [0, 1], then (when
      subtract_mean) the training mean image subtracted from every split.
      np.uint8: raw pixels 0..255 with no preprocessing at all (digits' 0..16
      are rescaled to 0..255); subtract_mean is then ignored.
    - subtract_mean: whether to subtract the training mean image (float only).
    - seed: seeds the split (and the num_train subset); same seed, same split.
    - data_dir: cache folder for downloads; None means default_data_dir().

    Returns a dict with:
    - X_train, X_val, X_test: images of shape (N, *DATASETS[name].image_shape)
      and the given dtype.
    - y_train, y_val, y_test: int64 labels of shape (N,).
    - class_names: list of str, one per class.
    - mean_image: the training mean image, shape (C, H, W), only when it was
      subtracted; add it back to show the pictures.
    """
    info = dataset_info(name)
    num_train = check_count("num_train", num_train, allow_none=True)
    return _load(info, num_train, num_val, num_test, dtype, subtract_mean, seed, data_dir, at_most=False)


def _load(info, num_train, num_val, num_test, dtype, subtract_mean, seed, data_dir, at_most):
    """load_dataset's work, shared with lesson_data; `at_most`: num_train is a cap, not a demand."""
    dtype = check_choice("dtype", np.dtype(dtype), _DTYPES)
    num_val = info.num_val if num_val is None else check_count("num_val", num_val)
    num_test = info.num_test if num_test is None else check_count("num_test", num_test)
    data = info.read(info, num_val, num_test, seed, data_dir)
    available = len(data["y_train"])
    if num_train is not None and num_train > available:
        if not at_most:
            raise ValueError(f"num_train must be at most {available} for {info.name}, got {num_train}")
        num_train = None
    if num_train is not None:
        _keep_training_subset(data, num_train, seed)
    return data if dtype == np.uint8 else _as_float(data, dtype, subtract_mean)


def _keep_training_subset(data, num_train, seed):
    """Keep a seeded subset of `num_train` training images (in their original order), in place."""
    keep = np.sort(np.random.default_rng(seed).permutation(len(data["y_train"]))[:num_train])
    data["X_train"], data["y_train"] = data["X_train"][keep], data["y_train"][keep]


def _as_float(data, dtype, subtract_mean):
    """Pixels scaled to [0, 1] in `dtype`, minus the training mean image when `subtract_mean`."""
    # In place after the one conversion: float64 CIFAR-10 alone takes 1.5 GB.
    for split in ("train", "val", "test"):
        data[f"X_{split}"] = data[f"X_{split}"].astype(dtype)
        data[f"X_{split}"] /= 255
    if subtract_mean:
        data["mean_image"] = fit_mean_image(data["X_train"])
        for split in ("train", "val", "test"):
            data[f"X_{split}"] -= data["mean_image"]
    return data


def download_cifar10(data_dir=None, url=None, sha256=None):
    """Return the path of the verified CIFAR-10 archive, downloading it if needed.

    The archive is streamed into a temporary file next to its final place,
    checked (complete, and its SHA-256 equal to `sha256`), and only then
    renamed into the cache, atomically: an interrupted or corrupt download
    never leaves a file behind. A cached archive is re-verified on every call
    (hashing 170 MB takes well under a second), so a damaged cache is reported
    instead of being unpickled.

    Inputs:
    - data_dir: cache folder; None means default_data_dir().
    - url: where to download from; None means the module's CIFAR10_URL.
    - sha256: expected hex digest; None means the module's CIFAR10_SHA256.

    Returns the pathlib.Path of the archive in data_dir.
    Raises OSError (naming the URL or file) when the download fails, is
    truncated, or its checksum does not match, and when the cached file is damaged.
    """
    url = CIFAR10_URL if url is None else url
    sha256 = (CIFAR10_SHA256 if sha256 is None else sha256).lower()
    data_dir = Path(default_data_dir() if data_dir is None else data_dir)
    path = data_dir / CIFAR10_FILENAME
    if path.exists():
        digest = _sha256_of_file(path)
        if digest != sha256:
            raise OSError(
                f"The cached CIFAR-10 archive {path} is damaged: its SHA-256 is {digest}, expected {sha256}. "
                f"Delete it to download it again."
            )
        return path
    data_dir.mkdir(parents=True, exist_ok=True)
    descriptor, part_name = tempfile.mkstemp(dir=data_dir, prefix=f".{CIFAR10_FILENAME}.", suffix=".part")
    part_path = Path(part_name)
    try:
        with os.fdopen(descriptor, "wb") as part:
            digest = _download(url, part)
        if digest != sha256:
            raise OSError(
                f"The CIFAR-10 archive downloaded from {url} is corrupt: its SHA-256 is {digest}, "
                f"expected {sha256}. Nothing was cached; run again to retry the download."
            )
        os.replace(part_path, path)
    finally:
        part_path.unlink(missing_ok=True)
    return path


def _download(url, file):
    """Stream `url` into the open binary `file` with a progress bar; return its SHA-256."""
    request = urllib.request.Request(url, headers={"User-Agent": "course_lib"})
    digest = hashlib.sha256()
    received = 0
    with urllib.request.urlopen(request, timeout=60) as response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length is not None else None
        with tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024, desc=CIFAR10_FILENAME) as bar:
            while chunk := response.read(_CHUNK_BYTES):
                file.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if expected is not None and received != expected:
        raise OSError(
            f"The download from {url} is truncated: received {received} of {expected} bytes. Nothing was cached."
        )
    return digest.hexdigest()


def _sha256_of_file(path):
    """Return the hex SHA-256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _unpickle_cifar10(path):
    """Read the pickled batches straight out of the archive (nothing is extracted).

    Returns (X_train, y_train, X_test, y_test, class_names): uint8 images of
    shape (N, 3, 32, 32), int64 labels of shape (N,), and the 10 class names.
    Pickle can run code, which is why only a checksum-verified archive is read.
    """
    try:
        with tarfile.open(path, "r:gz") as archive:

            def unpickle(member):
                with archive.extractfile(f"{CIFAR10_FOLDER}/{member}") as file:
                    return pickle.load(file, encoding="bytes")

            batches = [unpickle(f"data_batch_{i}") for i in range(1, 6)]
            test = unpickle("test_batch")
            meta = unpickle("batches.meta")
    except (tarfile.TarError, EOFError, KeyError, pickle.UnpicklingError) as error:
        raise OSError(f"{path} is not a readable CIFAR-10 python archive: {error!r}") from error

    def images(batch):
        return np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)

    def labels(batch):
        return np.asarray(batch[b"labels"], dtype=np.int64)

    X_train = np.concatenate([images(batch) for batch in batches])
    y_train = np.concatenate([labels(batch) for batch in batches])
    class_names = [name.decode("utf-8") for name in meta[b"label_names"]]
    return X_train, y_train, images(test), labels(test), class_names
