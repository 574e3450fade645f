"""Tests for course_lib.torch_train: device choice, on-device augmentation, the ConvNet, training, CLI."""

import dataclasses

import numpy as np
import pytest
import torch

from course_lib.cli import main
from course_lib.data import DATASET_NAMES, DATASETS
from course_lib.torch_train import (
    DeviceDataset,
    TrainConfig,
    build_convnet,
    channel_statistics,
    crop,
    evaluate,
    flip_where,
    load_images,
    pick_device,
    random_crop,
    random_flip,
    resolve_config,
    train,
    training,
)

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def one_thread():
    """One thread: these tiny networks gain nothing from more, and a busy or
    parallel (pytest -n) run slows down many times over when threads spin-wait."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def random_images(shape, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8))


# --- device ------------------------------------------------------------------


def test_auto_picks_cpu_without_cuda(no_cuda):
    assert pick_device("auto") == CPU
    assert pick_device() == CPU


def test_auto_picks_cuda_when_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("auto") == torch.device("cuda")


def test_explicit_cpu():
    assert pick_device("cpu") == CPU


def test_cuda_without_cuda_is_a_clear_error(no_cuda):
    with pytest.raises(RuntimeError, match="'cuda' was requested but CUDA is not available"):
        pick_device("cuda")


def test_unknown_device_lists_the_valid_ones():
    with pytest.raises(ValueError, match="device must be one of 'auto', 'cpu', 'cuda'; got 'gpu'"):
        pick_device("gpu")


# --- augmentation --------------------------------------------------------------


def test_crop_matches_explicit_indexing():
    images = random_images((6, 3, 5, 7))
    padding = 2
    rng = np.random.default_rng(1)
    top = torch.from_numpy(rng.integers(0, 2 * padding + 1, size=6))
    left = torch.from_numpy(rng.integers(0, 2 * padding + 1, size=6))
    out = crop(images, padding, top, left)
    padded = np.pad(images.numpy(), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    assert out.shape == images.shape and out.dtype == torch.uint8
    for n in range(6):
        expected = padded[n, :, top[n] : top[n] + 5, left[n] : left[n] + 7]
        np.testing.assert_array_equal(out[n].numpy(), expected)


def test_crop_at_the_padding_offset_is_the_identity():
    images = random_images((4, 1, 8, 8))
    offset = torch.full((4,), 3)
    assert torch.equal(crop(images, 3, offset, offset), images)


def test_random_crop_returns_windows_of_the_padded_images():
    images = random_images((40, 3, 6, 6))
    padding = 1
    out = random_crop(images, padding, torch.Generator().manual_seed(0))
    padded = np.pad(images.numpy(), ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    offsets_seen = set()
    for n in range(40):
        matches = [
            (dy, dx)
            for dy in range(2 * padding + 1)
            for dx in range(2 * padding + 1)
            if np.array_equal(out[n].numpy(), padded[n, :, dy : dy + 6, dx : dx + 6])
        ]
        assert len(matches) == 1, f"image {n} is not exactly one window of its padded image"
        offsets_seen.update(matches)
    assert len(offsets_seen) >= 5, "random crops should use many different offsets"


def test_random_crop_without_padding_is_the_identity():
    images = random_images((3, 3, 4, 4))
    assert torch.equal(random_crop(images, 0, torch.Generator()), images)


def test_flip_where_matches_explicit_indexing():
    images = random_images((5, 2, 3, 4))
    mask = torch.tensor([True, False, True, True, False])
    out = flip_where(images, mask)
    for n in range(5):
        expected = images.numpy()[n, :, :, ::-1] if mask[n] else images.numpy()[n]
        np.testing.assert_array_equal(out[n].numpy(), expected)


def test_random_flip_mirrors_some_images_and_keeps_the_others():
    images = random_images((64, 3, 4, 4))
    out = random_flip(images, torch.Generator().manual_seed(0))
    flipped = [torch.equal(out[n], images[n].flip(-1)) for n in range(64)]
    kept = [torch.equal(out[n], images[n]) for n in range(64)]
    assert all(f != k for f, k in zip(flipped, kept))
    assert 16 < sum(flipped) < 48


# --- DeviceDataset -------------------------------------------------------------


def test_training_batches_are_a_shuffled_epoch_without_repeats():
    images = random_images((50, 1, 8, 8)).numpy()
    labels = np.arange(50)  # labels double as indices, to check each image travels with its label
    data = DeviceDataset(images, labels, CPU, batch_size=16, train=True, seed=0)
    batches = list(data)
    assert len(batches) == len(data) == 3  # the partial batch of 2 is dropped
    seen = torch.cat([y for _, y in batches])
    assert len(set(seen.tolist())) == 48
    assert seen.tolist() != sorted(seen.tolist())
    for x, y in batches:
        assert x.shape == (16, 1, 8, 8) and x.dtype == torch.uint8 and y.dtype == torch.int64
        np.testing.assert_array_equal(x.numpy(), images[y.numpy()])


def test_training_batches_are_augmented_copies_of_their_images():
    images = random_images((32, 3, 6, 6)).numpy()
    data = DeviceDataset(images, np.arange(32), CPU, batch_size=32, train=True, flip=True, seed=0)
    ((x, y),) = list(data)
    for n in range(32):
        original = images[y[n]]
        assert np.array_equal(x[n].numpy(), original) or np.array_equal(x[n].numpy(), original[:, :, ::-1])


def test_evaluation_batches_keep_order_and_the_last_partial_batch():
    images = random_images((10, 1, 4, 4)).numpy()
    data = DeviceDataset(images, np.arange(10), CPU, batch_size=4)
    batches = list(data)
    assert len(data) == 3 and [len(y) for _, y in batches] == [4, 4, 2]
    np.testing.assert_array_equal(torch.cat([x for x, _ in batches]).numpy(), images)


def test_small_training_set_gives_one_full_batch():
    data = DeviceDataset(random_images((5, 1, 4, 4)).numpy(), np.arange(5), CPU, batch_size=64, train=True)
    assert len(data) == 1 and len(next(iter(data))[1]) == 5


def test_device_dataset_rejects_float_images_and_bad_labels():
    with pytest.raises(ValueError, match="uint8"):
        DeviceDataset(np.zeros((4, 1, 8, 8)), np.zeros(4, dtype=int), CPU, batch_size=2)
    with pytest.raises(ValueError, match="images must have shape"):
        DeviceDataset(np.zeros((4, 8, 8), dtype=np.uint8), np.zeros(4, dtype=int), CPU, batch_size=2)
    with pytest.raises(ValueError, match="at least one image"):
        DeviceDataset(np.zeros((0, 1, 8, 8), dtype=np.uint8), np.zeros(0, dtype=int), CPU, batch_size=2)
    with pytest.raises(ValueError, match="labels must have shape"):
        DeviceDataset(np.zeros((4, 1, 8, 8), dtype=np.uint8), np.zeros(3, dtype=int), CPU, batch_size=2)
    images, labels = np.zeros((4, 1, 8, 8), dtype=np.uint8), np.zeros(4, dtype=int)
    with pytest.raises(ValueError, match=r"batch_size must be a whole number >= 1, got 2\.5"):
        DeviceDataset(images, labels, CPU, batch_size=2.5)
    with pytest.raises(ValueError, match=r"crop_padding must be a whole number >= 0, got 0\.5"):
        DeviceDataset(images, labels, CPU, batch_size=2, crop_padding=0.5)


def test_channel_statistics_match_numpy():
    images = random_images((20, 3, 5, 5))
    mean, std = channel_statistics(images)
    np.testing.assert_allclose(mean, images.numpy().mean(axis=(0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(std, images.numpy().std(axis=(0, 2, 3), ddof=1), rtol=1e-4)


# --- the ConvNet ----------------------------------------------------------------


@pytest.mark.parametrize("shape, widths", [((2, 1, 8, 8), (8, 16)), ((2, 3, 32, 32), (8, 16, 16))])
def test_convnet_maps_images_to_class_scores(shape, widths):
    model = build_convnet(shape[1], 10, widths)
    assert model(random_images(shape)).shape == (2, 10)
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in model) == len(widths)


def test_convnet_standardizes_its_input():
    model = build_convnet(3, 10, widths=(8,), mean=[10.0, 20.0, 30.0], std=[2.0, 4.0, 5.0])
    x = random_images((2, 3, 4, 4))
    out = model[0](x)
    expected = (x.numpy() - np.array([10.0, 20.0, 30.0])[:, None, None]) / np.array([2.0, 4.0, 5.0])[:, None, None]
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_convnet_convolutions_get_he_initialization():
    torch.manual_seed(0)
    model = build_convnet(3, 10, widths=(256,))
    conv = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]  # 256 -> 256, 3x3
    assert conv.weight.std().item() == pytest.approx(np.sqrt(2 / (256 * 9)), rel=0.02)


def test_convnet_rejects_bad_arguments():
    with pytest.raises(ValueError, match="activation must be one of 'gelu', 'relu'"):
        build_convnet(3, 10, (8,), activation="swish")
    with pytest.raises(ValueError, match="mean must have shape"):
        build_convnet(3, 10, (8,), mean=[0.0, 0.0])
    for name, arguments in {
        "in_channels": (2.5, 10, (8,)),
        "num_classes": (3, 2.5, (8,)),
        "widths entries": (3, 10, (8, 2.5)),
    }.items():
        with pytest.raises(ValueError, match=f"{name} must be a whole number >= 1, got 2.5"):
            build_convnet(*arguments)


def test_evaluate_with_flip_tta_adds_the_mirrored_scores():
    torch.manual_seed(0)
    model = build_convnet(3, 10, widths=(8,)).eval()
    images, labels = random_images((12, 3, 8, 8)).numpy(), np.arange(12) % 10
    data = DeviceDataset(images, labels, CPU, batch_size=5)
    x = torch.from_numpy(images)
    with torch.no_grad():
        plain = (model(x).argmax(1) == torch.from_numpy(labels)).float().mean().item()
        both = ((model(x) + model(x.flip(-1))).argmax(1) == torch.from_numpy(labels)).float().mean().item()
    assert evaluate(model, data) == pytest.approx(plain)
    assert evaluate(model, data, flip_tta=True) == pytest.approx(both)


# --- configuration and bad input ------------------------------------------------


def test_presets_fill_the_unset_fields():
    config = resolve_config(TrainConfig(dataset="cifar10", optimizer="adam", epochs=3))
    assert config.epochs == 3 and config.widths == (64, 256, 256) and config.flip
    assert config.learning_rate == training.DEFAULT_LEARNING_RATES["adam"]
    assert not resolve_config(TrainConfig(dataset="digits")).flip  # digits are not mirror-symmetric


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"dataset": "mnist"}, f"dataset must be one of {', '.join(map(repr, DATASET_NAMES))}; got 'mnist'"),
        ({"optimizer": "lbfgs"}, "optimizer must be one of 'sgd', 'adam'"),
        ({"lr_schedule": "step"}, "lr_schedule must be one of 'one_cycle', 'constant'"),
        ({"device": "tpu"}, "device must be one of 'auto', 'cpu', 'cuda'"),
        ({"epochs": 0}, "epochs must be a whole number >= 1, got 0"),
        ({"epochs": 2.5}, "epochs must be a whole number >= 1, got 2.5"),
        ({"batch_size": 2.5}, "batch_size must be a whole number >= 1, got 2.5"),
        ({"train_size": 2.5}, "train_size must be a whole number >= 1, got 2.5"),
        ({"val_size": 2.5}, "val_size must be a whole number >= 1, got 2.5"),
        ({"crop_padding": 2.5}, "crop_padding must be a whole number >= 0, got 2.5"),
        ({"widths": (8, 2.5)}, "widths entries must be a whole number >= 1, got 2.5"),
        ({"label_smoothing": 1.5}, "label_smoothing must be a probability"),
        ({"widths": (8, 8, 8, 8)}, "widths must have at most 3 stages for 8x8 digits"),
    ],
)
def test_bad_configs_are_clear_errors(fields, message):
    with pytest.raises(ValueError, match=message):
        train(TrainConfig(progress=False, **fields))


@pytest.mark.parametrize("info", DATASETS.values(), ids=DATASET_NAMES)
def test_synthetic_data_is_shaped_like_the_dataset(info):
    data = load_images(resolve_config(TrainConfig(dataset=info.name, synthetic=True, train_size=10, val_size=5)))
    assert data["X_train"].shape == (10, *info.image_shape) and data["X_train"].dtype == np.uint8
    assert data["X_val"].shape == (5, *info.image_shape) and data["y_val"].shape == (5,)
    assert data["y_train"].max() < info.num_classes


@pytest.mark.parametrize("info", DATASETS.values(), ids=DATASET_NAMES)
def test_every_dataset_preset_builds_a_network_for_its_images(info):
    config = resolve_config(TrainConfig(dataset=info.name))
    assert set(info.trainer_preset) <= {f.name for f in dataclasses.fields(TrainConfig)}
    for name, value in info.trainer_preset.items():
        assert getattr(config, name) == value
    model = build_convnet(info.image_shape[0], info.num_classes, config.widths)
    assert model(random_images((2, *info.image_shape))).shape == (2, info.num_classes)


def test_an_unnamed_dataset_follows_the_switch(monkeypatch):
    monkeypatch.delenv("COURSE_DATASET", raising=False)
    assert resolve_config(TrainConfig()).dataset == "digits"
    monkeypatch.setenv("COURSE_DATASET", "cifar10")
    config = resolve_config(TrainConfig(synthetic=True))
    assert config.dataset == "cifar10" and config.widths == DATASETS["cifar10"].trainer_preset["widths"]


# --- training -------------------------------------------------------------------


def test_training_on_digits_learns(no_cuda):
    result = train(TrainConfig(dataset="digits", epochs=4, widths=(16, 32), progress=False))
    assert result.device == CPU
    assert result.accuracy > 0.8, f"chance is 0.1; got {result.accuracy}"
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert len(result.history) == 4 and result.seconds > 0 and result.images_per_second > 0
    assert result.history[0]["images"] == 9 * 128  # 1257 images in full batches of 128


def test_training_is_deterministic_for_a_seed():
    def run(seed):
        config = TrainConfig(
            dataset="digits", epochs=2, train_size=256, widths=(8, 16), device="cpu", seed=seed, progress=False
        )
        result = train(config)
        losses = [record["loss"] for record in result.history]
        return losses, [p.detach().clone() for p in result.model.parameters()]

    losses, params = run(seed=3)
    again_losses, again_params = run(seed=3)
    other_losses, _ = run(seed=4)
    assert losses == again_losses
    assert all(torch.equal(p, q) for p, q in zip(params, again_params))
    assert losses != other_losses


# --- command line ----------------------------------------------------------------


def test_cli_runs_a_tiny_synthetic_training(capsys):
    code = main(
        [
            "train-convnet",
            "--synthetic",
            "--dataset",
            "cifar10",
            "--epochs",
            "1",
            "--train-size",
            "64",
            "--val-size",
            "32",
            "--widths",
            "8",
            "16",
            "--device",
            "cpu",
            "--no-progress",
        ]
    )
    assert code == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("synthetic cifar10: val accuracy") and line.endswith("images/s on cpu")


def test_cli_reports_bad_input_without_a_traceback(capsys, no_cuda):
    assert main(["train-convnet", "--dataset", "mnist"]) == 2
    assert f"dataset must be one of {', '.join(map(repr, DATASET_NAMES))}" in capsys.readouterr().err
    assert main(["train-convnet", "--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_cli_explains_a_failed_download(capsys, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("could not reach www.cs.toronto.edu")

    monkeypatch.setattr(training, "load_dataset", offline)
    assert main(["train-convnet", "--dataset", "cifar10", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "could not reach www.cs.toronto.edu" in err and "--synthetic" in err


def test_cli_rejects_unknown_options():
    with pytest.raises(SystemExit):
        main(["train-convnet", "--no-such-option"])


def test_constant_schedule_keeps_the_peak_rate_and_one_cycle_warms_up():
    model = torch.nn.Linear(2, 1)
    rates = {}
    for name in ("one_cycle", "constant"):
        config = resolve_config(TrainConfig(lr_schedule=name, learning_rate=0.2))
        optimizer, schedule = training._make_optimizer(model, config, steps=50)
        rates[name] = []
        for _ in range(50):
            rates[name].append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            schedule.step()
    assert rates["constant"] == [0.2] * 50
    peak = int(np.argmax(rates["one_cycle"]))
    assert rates["one_cycle"][0] < 0.2 / 10 and rates["one_cycle"][peak] == pytest.approx(0.2)
    assert peak == pytest.approx(0.2 * 50, abs=1) and rates["one_cycle"][-1] < 1e-3
