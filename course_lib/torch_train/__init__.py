"""ConvNet training with PyTorch, on the GPU when there is one.

The ConvNet lesson's GPU cells use this package; on a laptop or in CI the same
code runs on the CPU. It applies the ideas of the course to a real training run:

* the device is picked automatically (CUDA when present, else CPU), and every
  timing synchronizes the device before reading the clock, because CUDA kernels
  run asynchronously and an unsynchronized clock measures only the launches;
* the whole dataset lives on the device as uint8 tensors and is augmented there,
  one batch at a time (random crop with zero padding, horizontal flip), so no
  CPU data loader sits between the GPU and its next batch;
* the network is the course's ConvNet: 3x3 conv, batchnorm, GELU (or ReLU),
  max pooling, He initialization; it standardizes its own uint8 input, and
  its pooling depth suits each dataset's image size (see convnet);
* training uses SGD with Nesterov momentum (or Adam), label smoothing and a
  one-cycle learning-rate schedule (warm-up, then cosine decay); on a GPU it
  runs in bf16 autocast with channels-last tensors, optionally torch.compile'd;
* evaluation averages the logits of each image and its mirror image (flip
  test-time augmentation) when flips are part of the augmentation.

Typical use::

    from course_lib.torch_train import TrainConfig, train
    result = train(TrainConfig(dataset="digits", epochs=5))
    result.accuracy, result.seconds, result.images_per_second

Modules: device (pick_device, synchronize), device_data (on-device
augmentation and DeviceDataset), convnet (build_convnet), training
(TrainConfig, train, evaluate).
"""

from course_lib.torch_train.convnet import ACTIVATIONS, Standardize, build_convnet
from course_lib.torch_train.device import DEVICE_CHOICES, pick_device, synchronize
from course_lib.torch_train.device_data import (
    DeviceDataset,
    channel_statistics,
    crop,
    flip_where,
    random_crop,
    random_flip,
)
from course_lib.torch_train.training import (
    DEFAULT_LEARNING_RATES,
    LR_SCHEDULES,
    OPTIMIZERS,
    TrainConfig,
    TrainResult,
    evaluate,
    load_images,
    resolve_config,
    train,
)

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_LEARNING_RATES",
    "DEVICE_CHOICES",
    "LR_SCHEDULES",
    "OPTIMIZERS",
    "DeviceDataset",
    "Standardize",
    "TrainConfig",
    "TrainResult",
    "build_convnet",
    "channel_statistics",
    "crop",
    "evaluate",
    "flip_where",
    "load_images",
    "pick_device",
    "random_crop",
    "random_flip",
    "resolve_config",
    "synchronize",
    "train",
]
