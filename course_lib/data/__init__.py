"""course_lib.data: datasets, preprocessing and augmentation.

* datasets: DATASETS (one DatasetInfo per dataset, the one home of its facts),
  load_dataset(name), lesson_data() (every lesson's set-up), dataset_info(name);
  a name left out (None) means default_dataset_name(): COURSE_DATASET, else DEFAULT_DATASET.
* preprocessing: fit_* on training data, then apply to every split.
* augmentation: random flips, crops, colour jitter and mixup on (N, C, H, W)
  numpy batches, driven by a np.random.Generator.
"""

from course_lib.data.augmentation import color_jitter, mixup, random_crop, random_horizontal_flip
from course_lib.data.datasets import (
    DATASET_NAMES,
    DATASETS,
    DEFAULT_DATASET,
    DatasetInfo,
    dataset_info,
    default_data_dir,
    default_dataset_name,
    download_cifar10,
    lesson_data,
    load_dataset,
)
from course_lib.data.preprocessing import (
    fit_channel_mean,
    fit_mean_image,
    fit_pca,
    fit_standardization,
    pca_project,
    pca_reconstruct,
    standardize,
    subtract_channel_mean,
    subtract_mean_image,
    whiten,
)

__all__ = [
    "DATASETS",
    "DATASET_NAMES",
    "DEFAULT_DATASET",
    "DatasetInfo",
    "color_jitter",
    "dataset_info",
    "default_data_dir",
    "default_dataset_name",
    "download_cifar10",
    "fit_channel_mean",
    "fit_mean_image",
    "fit_pca",
    "fit_standardization",
    "lesson_data",
    "load_dataset",
    "mixup",
    "pca_project",
    "pca_reconstruct",
    "random_crop",
    "random_horizontal_flip",
    "standardize",
    "subtract_channel_mean",
    "subtract_mean_image",
    "whiten",
]
