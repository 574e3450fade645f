"""Training the course ConvNet: the training loop and evaluation.

Each dataset's defaults (epochs, batch size, widths, augmentation) are its
`trainer_preset` in course_lib.data.DATASETS.

SGD with Nesterov momentum (or Adam), label smoothing, a one-cycle learning-rate
schedule (warm-up, then cosine decay), bf16 autocast and channels-last tensors
on a GPU, optional torch.compile, and flip test-time augmentation.
"""

import dataclasses
import math
import time

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from course_lib.checks import check_choice, check_count, check_positive, check_probability
from course_lib.data import dataset_info, load_dataset
from course_lib.torch_train.convnet import ACTIVATIONS, build_convnet
from course_lib.torch_train.device import DEVICE_CHOICES, pick_device, synchronize
from course_lib.torch_train.device_data import DeviceDataset, channel_statistics

OPTIMIZERS = ("sgd", "adam")
# "one_cycle": warm up to the peak learning rate, then cosine decay; "constant": the peak throughout.
LR_SCHEDULES = ("one_cycle", "constant")

DEFAULT_LEARNING_RATES = {"sgd": 0.2, "adam": 5e-3}
# Synthetic runs measure throughput: enough batches per epoch for a steady rate.
SYNTHETIC_TRAIN_SIZE = 50_000


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run depends on. Fields left None take the dataset's preset.

    - dataset: a name of course_lib.data.DATASETS; None means
      course_lib.data.default_dataset_name() (COURSE_DATASET, else the default).
    - synthetic: train on random uint8 images shaped like the dataset's, with
      random labels (measures throughput where no data can be downloaded;
      accuracy stays at chance).
    - epochs, batch_size: None means the dataset's trainer_preset.
    - train_size, val_size: use only this many training / validation images
      (None: all; synthetic data has SYNTHETIC_TRAIN_SIZE and the dataset's num_val).
    - widths, activation: the network (see build_convnet); widths None means the preset.
    - optimizer: "sgd" (Nesterov momentum 0.9) or "adam".
    - learning_rate: peak of the one-cycle schedule; None means DEFAULT_LEARNING_RATES.
    - warmup_fraction: fraction of the steps spent warming up to the peak.
    - lr_schedule: "one_cycle" (warm-up, then cosine decay) or "constant" (the
      peak rate at every step, for comparison).
    - weight_decay: L2 regularization strength (as in the lecture's loss).
    - label_smoothing: probability mass spread over all classes in the targets.
    - crop_padding, flip: augmentation; None means the preset. Flip test-time
      augmentation is used exactly when flip is.
    - device: "auto", "cpu" or "cuda".
    - compile: wrap the model in torch.compile (needs a C compiler; pays off on GPU).
    - seed: seeds initialization, data order and augmentation.
    - progress: show a tqdm bar per epoch and print a final summary line.
    """

    dataset: str | None = None
    synthetic: bool = False
    epochs: int | None = None
    batch_size: int | None = None
    train_size: int | None = None
    val_size: int | None = None
    widths: tuple | None = None
    activation: str = "gelu"
    optimizer: str = "sgd"
    learning_rate: float | None = None
    warmup_fraction: float = 0.2
    lr_schedule: str = "one_cycle"
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    crop_padding: int | None = None
    flip: bool | None = None
    device: str = "auto"
    compile: bool = False
    seed: int = 0
    progress: bool = True


@dataclasses.dataclass
class TrainResult:
    """What `train` returns.

    - model: the trained nn.Module (on the training device, in eval mode).
    - accuracy: validation accuracy after the last epoch, a fraction in [0, 1].
    - seconds: wall time of all training steps (device synchronized; evaluation excluded).
    - images_per_second: training images processed per second of `seconds`.
    - history: one dict per epoch with "epoch", "loss", "train_accuracy",
      "val_accuracy", "seconds" and "images".
    - device: the torch.device used.
    - config: the TrainConfig with every preset filled in.
    """

    model: nn.Module
    accuracy: float
    seconds: float
    images_per_second: float
    history: list
    device: torch.device
    config: TrainConfig

    def summary(self):
        """Return the one-line report: dataset, accuracy, seconds and images/s."""
        source = ("synthetic " if self.config.synthetic else "") + self.config.dataset
        return (
            f"{source}: val accuracy {self.accuracy:.2%} | {self.seconds:.1f} s training | "
            f"{self.images_per_second:,.0f} images/s on {self.device}"
        )


def resolve_config(config):
    """Validate `config` and fill its None fields from the dataset's preset.

    Returns a new TrainConfig. Raises ValueError naming the first bad field.
    """
    info = dataset_info(config.dataset, "dataset")
    check_choice("optimizer", config.optimizer, OPTIMIZERS)
    check_choice("lr_schedule", config.lr_schedule, LR_SCHEDULES)
    check_choice("activation", config.activation, tuple(ACTIVATIONS))
    check_choice("device", config.device, DEVICE_CHOICES)
    filled = {
        name: value if getattr(config, name) is None else getattr(config, name)
        for name, value in info.trainer_preset.items()
    }
    if config.learning_rate is None:
        filled["learning_rate"] = DEFAULT_LEARNING_RATES[config.optimizer]
    config = dataclasses.replace(config, dataset=info.name, **filled)
    counts = {
        "epochs": check_count("epochs", config.epochs),
        "batch_size": check_count("batch_size", config.batch_size),
        "train_size": check_count("train_size", config.train_size, allow_none=True),
        "val_size": check_count("val_size", config.val_size, allow_none=True),
        "crop_padding": check_count("crop_padding", config.crop_padding, allow_zero=True),
        "widths": tuple(check_count("widths entries", width) for width in config.widths),
    }
    config = dataclasses.replace(config, **counts)
    check_positive("learning_rate", config.learning_rate)
    check_positive("weight_decay", config.weight_decay, allow_zero=True)
    check_probability("warmup_fraction", config.warmup_fraction)
    check_probability("label_smoothing", config.label_smoothing, allow_zero=True)
    height, width = info.image_shape[1:]
    if min(height, width) < 2 ** len(config.widths):
        raise ValueError(
            f"widths must have at most {int(math.log2(min(height, width)))} stages for {height}x{width} "
            f"{info.name} images (one 2x2 pool each), got {config.widths}"
        )
    return config


def load_images(config):
    """Return the uint8 splits a (resolved) config trains on.

    Returns a dict with X_train, y_train, X_val, y_val: images (N, C, H, W)
    uint8 and int64 labels; real data comes from course_lib.data.load_dataset.
    """
    if not config.synthetic:
        return load_dataset(
            config.dataset, num_train=config.train_size, num_val=config.val_size, dtype=np.uint8, seed=config.seed
        )
    info = dataset_info(config.dataset)
    rng = np.random.default_rng(config.seed)
    data = {}
    for split, size in (("train", config.train_size or SYNTHETIC_TRAIN_SIZE), ("val", config.val_size or info.num_val)):
        data[f"X_{split}"] = rng.integers(0, 256, size=(size, *info.image_shape), dtype=np.uint8)
        data[f"y_{split}"] = rng.integers(0, info.num_classes, size=size, dtype=np.int64)
    return data


@torch.no_grad()
def evaluate(model, dataset, flip_tta=False):
    """Return the accuracy of `model` on a DeviceDataset, a fraction in [0, 1].

    Inputs:
    - model: maps uint8 images (B, C, H, W) to scores (B, K).
    - dataset: a DeviceDataset with train=False.
    - flip_tta: also score each mirrored image and add the two scores.
    """
    model.eval()
    device = dataset.device
    correct = torch.zeros((), dtype=torch.int64, device=device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        for x, y in dataset:
            scores = model(x)
            if flip_tta:
                scores = scores + model(x.flip(-1))
            correct += (scores.argmax(dim=1) == y).sum()
    return correct.item() / len(dataset.labels)


def _make_optimizer(model, config, steps):
    """The optimizer and its schedule: one-cycle (warm-up, then cosine decay to ~0) or constant."""
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(
            model.parameters(), lr=config.learning_rate, momentum=0.9, nesterov=True, weight_decay=config.weight_decay
        )
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    if config.lr_schedule == "constant":
        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    # Momentum stays fixed (cycle_momentum=False): only the learning rate follows the cycle.
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=config.learning_rate,
        total_steps=steps,
        pct_start=config.warmup_fraction,
        cycle_momentum=False,
    )
    return optimizer, schedule


def train(config=None):
    """Train the course ConvNet as `config` says and return a TrainResult.

    Inputs:
    - config: a TrainConfig; None means TrainConfig() (the default dataset and its preset).

    Returns a TrainResult (accuracy, seconds, images_per_second, history, model).
    Raises ValueError for a bad config, RuntimeError for "cuda" without CUDA.
    On a GPU it switches on torch.backends.cudnn.benchmark (process-wide).
    """
    config = resolve_config(config or TrainConfig())
    device = pick_device(config.device)
    on_gpu = device.type == "cuda"
    if on_gpu:
        # Training batches all have one shape: let cuDNN time its algorithms once and keep the fastest.
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(config.seed)

    data = load_images(config)
    train_data = DeviceDataset(
        data["X_train"],
        data["y_train"],
        device,
        config.batch_size,
        train=True,
        crop_padding=config.crop_padding,
        flip=config.flip,
        channels_last=on_gpu,
        seed=config.seed,
    )
    val_data = DeviceDataset(data["X_val"], data["y_val"], device, 2 * config.batch_size, channels_last=on_gpu)
    mean, std = channel_statistics(train_data.images)
    info = dataset_info(config.dataset)
    model = build_convnet(info.image_shape[0], info.num_classes, config.widths, config.activation, mean, std)
    model = model.to(device, memory_format=torch.channels_last if on_gpu else torch.contiguous_format)
    network = torch.compile(model) if config.compile else model
    optimizer, schedule = _make_optimizer(model, config, config.epochs * len(train_data))
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)

    history = []
    for epoch in range(1, config.epochs + 1):
        network.train()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        # Updated by hand: iterating over a tqdm closes it before the epoch's results can join the bar.
        bar = tqdm(
            total=len(train_data), desc=f"epoch {epoch}/{config.epochs}", unit="batch", disable=not config.progress
        )
        synchronize(device)
        start = time.perf_counter()
        for x, y in train_data:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=on_gpu):
                scores = network(x)
                loss = criterion(scores, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            # Accumulate on the device: .item() here would stall the GPU every step.
            loss_sum += loss.detach() * len(y)
            correct += (scores.argmax(dim=1) == y).sum()
            bar.update()
        synchronize(device)
        seconds = time.perf_counter() - start
        images = len(train_data) * train_data.batch_size
        record = {
            "epoch": epoch,
            "loss": loss_sum.item() / images,
            "train_accuracy": correct.item() / images,
            "val_accuracy": evaluate(network, val_data, flip_tta=config.flip),
            "seconds": seconds,
            "images": images,
        }
        history.append(record)
        bar.set_postfix(
            loss=f"{record['loss']:.3f}",
            train_acc=f"{record['train_accuracy']:.3f}",
            val_acc=f"{record['val_accuracy']:.3f}",
        )
        bar.close()

    seconds = sum(record["seconds"] for record in history)
    images_per_second = sum(record["images"] for record in history) / seconds
    accuracy = history[-1]["val_accuracy"]
    result = TrainResult(model.eval(), accuracy, seconds, images_per_second, history, device, config)
    if config.progress:
        print(result.summary())
    return result
