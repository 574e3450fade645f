"""Tests for course_lib.data: datasets, the CIFAR-10 downloader, preprocessing, augmentation."""

import hashlib
import http.server
import io
import pickle
import tarfile
import threading

import numpy as np
import pytest
from sklearn.datasets import load_digits

from course_lib import data
from course_lib.data import datasets

# ---------------------------------------------------------------- digits


def test_digits_shapes_dtypes_and_split_sizes():
    d = data.load_dataset("digits")
    expected = {"train": 1257, "val": 270, "test": 270}
    for split, size in expected.items():
        assert d[f"X_{split}"].shape == (size, 1, 8, 8)
        assert d[f"X_{split}"].dtype == np.float64
        assert d[f"y_{split}"].shape == (size,)
        assert d[f"y_{split}"].dtype == np.int64
    assert d["class_names"] == [str(k) for k in range(10)]
    assert d["mean_image"].shape == (1, 8, 8)


def test_digits_splits_are_disjoint_and_cover_the_dataset():
    d = data.load_dataset("digits", dtype=np.uint8)
    rows = [d[f"X_{split}"].reshape(len(d[f"X_{split}"]), -1) for split in ("train", "val", "test")]
    all_rows = np.concatenate(rows)
    assert len(all_rows) == 1797
    # The three splits together hold every (image, label) pair of the dataset
    # exactly once: compare as multisets, since digits has a few duplicate images.
    digits = load_digits()
    reference = np.rint(digits.images * (255 / 16)).astype(np.uint8).reshape(1797, -1)
    ours = np.concatenate([all_rows, np.concatenate([d["y_train"], d["y_val"], d["y_test"]])[:, None]], axis=1)
    theirs = np.concatenate([reference, digits.target[:, None]], axis=1)
    assert sorted(map(bytes, ours.astype(np.uint8))) == sorted(map(bytes, theirs.astype(np.uint8)))


def test_digits_split_is_deterministic_and_depends_on_seed():
    a, b = data.load_dataset("digits", seed=0), data.load_dataset("digits", seed=0)
    c = data.load_dataset("digits", seed=1)
    for key in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["y_val"], c["y_val"])


def test_digits_splits_are_stratified_by_class():
    d = data.load_dataset("digits")
    class_fraction = np.bincount(load_digits().target) / 1797
    for split in ("train", "val", "test"):
        counts = np.bincount(d[f"y_{split}"], minlength=10)
        expected = class_fraction * len(d[f"y_{split}"])
        assert np.all(np.abs(counts - expected) <= 2), (split, counts, expected)  # two rounded splits


def test_digits_custom_split_sizes_and_train_subset():
    d = data.load_dataset("digits", num_train=100, num_val=50, num_test=60)
    assert (len(d["y_train"]), len(d["y_val"]), len(d["y_test"])) == (100, 50, 60)
    with pytest.raises(ValueError, match="num_train"):
        data.load_dataset("digits", num_train=5000)


def test_uint8_mode_returns_raw_pixels_without_preprocessing():
    d = data.load_dataset("digits", dtype=np.uint8)
    assert d["X_train"].dtype == np.uint8
    assert d["X_train"].min() == 0 and d["X_train"].max() == 255
    assert "mean_image" not in d
    f = data.load_dataset("digits", subtract_mean=False)
    np.testing.assert_allclose(f["X_train"], d["X_train"] / 255.0)
    assert "mean_image" not in f


def test_float32_mode_preserves_dtype():
    d = data.load_dataset("digits", dtype=np.float32)
    assert d["X_train"].dtype == d["X_test"].dtype == d["mean_image"].dtype == np.float32


def test_mean_subtraction_uses_the_training_mean_only():
    raw = data.load_dataset("digits", subtract_mean=False)
    centred = data.load_dataset("digits")
    train_mean = raw["X_train"].mean(axis=0)
    np.testing.assert_allclose(centred["mean_image"], train_mean)
    np.testing.assert_allclose(centred["X_train"].mean(axis=0), 0, atol=1e-12)
    for split in ("val", "test"):
        np.testing.assert_allclose(centred[f"X_{split}"], raw[f"X_{split}"] - train_mean)
        # ...which is not the split's own mean.
        assert np.abs(centred[f"X_{split}"].mean(axis=0)).max() > 1e-3


def test_unknown_dataset_and_dtype_name_the_valid_choices():
    with pytest.raises(ValueError, match=", ".join(map(repr, data.DATASET_NAMES))):
        data.load_dataset("mnist")
    with pytest.raises(ValueError, match="dtype"):
        data.load_dataset("digits", dtype=np.int32)


def test_default_dataset_name_reads_and_validates_the_environment(monkeypatch):
    monkeypatch.delenv("COURSE_DATASET", raising=False)
    assert data.default_dataset_name() == "digits"
    monkeypatch.setenv("COURSE_DATASET", "cifar10")
    assert data.default_dataset_name() == "cifar10"
    monkeypatch.setenv("COURSE_DATASET", "imagenet")
    with pytest.raises(ValueError, match="COURSE_DATASET must be one of " + ", ".join(map(repr, data.DATASET_NAMES))):
        data.default_dataset_name()


def test_an_unnamed_dataset_is_the_switch_everywhere(monkeypatch):
    monkeypatch.delenv("COURSE_DATASET", raising=False)
    assert data.dataset_info() is data.DATASETS[data.DEFAULT_DATASET]
    unnamed = data.load_dataset(num_train=10, dtype=np.uint8)
    named = data.load_dataset(data.DEFAULT_DATASET, num_train=10, dtype=np.uint8)
    np.testing.assert_array_equal(unnamed["X_train"], named["X_train"])
    monkeypatch.setenv("COURSE_DATASET", "imagenet")
    with pytest.raises(ValueError, match="COURSE_DATASET"):
        data.load_dataset()
    assert data.load_dataset("digits", num_train=10)["X_train"].shape[0] == 10  # a named dataset ignores the switch


@pytest.mark.parametrize("info", data.DATASETS.values(), ids=data.DATASET_NAMES)
def test_every_dataset_description_is_complete(info):
    assert data.DATASETS[info.name] is info and data.dataset_info(info.name) is info
    channels, height, width = info.image_shape
    assert channels in (1, 3) and height >= 2 and width >= 2
    assert info.input_dim == channels * height * width
    assert info.num_classes == len(set(info.class_names)) >= 2
    assert info.num_val >= 1 and (info.num_test is None or info.num_test >= 1)
    assert info.lesson_train is None or info.lesson_train >= 1
    assert callable(info.read)


# ---------------------------------------------------------------- CIFAR-10 downloader

TRAIN_PER_BATCH, NUM_TEST = 4, 6
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _batch(rng, num_images, label):
    """A batch dict pickled like the original: bytes keys, rows of 3072 uint8 (R, G, B planes)."""
    return {
        b"batch_label": label.encode(),
        b"labels": [int(k) for k in rng.integers(0, 10, num_images)],
        b"data": rng.integers(0, 256, (num_images, 3072), dtype=np.uint8),
        b"filenames": [f"{label}_{i}.png".encode() for i in range(num_images)],
    }


def _tiny_cifar_archive():
    """Return (archive bytes, batches by member name) in the official python format."""
    rng = np.random.default_rng(123)
    batches = {f"data_batch_{i}": _batch(rng, TRAIN_PER_BATCH, f"training batch {i}") for i in range(1, 6)}
    batches["test_batch"] = _batch(rng, NUM_TEST, "testing batch")
    batches["batches.meta"] = {b"label_names": [name.encode() for name in CLASS_NAMES], b"num_vis": 3072}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member, content in batches.items():
            payload = pickle.dumps(content)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{member}")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return buffer.getvalue(), batches


@pytest.fixture(scope="module")
def tiny_archive():
    return _tiny_cifar_archive()


@pytest.fixture
def served(tmp_path):
    """Serve byte strings on a throwaway 127.0.0.1 HTTP server; yields (serve(path, body, length), requests)."""
    routes, requests = {}, []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body, length = routes[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(path, body, length=None):
        routes[path] = (body, len(body) if length is None else length)
        return f"http://127.0.0.1:{server.server_port}{path}"

    yield serve, requests
    server.shutdown()
    server.server_close()


def _use_archive(monkeypatch, url, body):
    monkeypatch.setattr(datasets, "CIFAR10_URL", url)
    monkeypatch.setattr(datasets, "CIFAR10_SHA256", hashlib.sha256(body).hexdigest())


def test_cifar10_downloads_once_then_reads_from_cache(tmp_path, monkeypatch, served, tiny_archive):
    body, batches = tiny_archive
    serve, requests = served
    _use_archive(monkeypatch, serve("/cifar.tar.gz", body), body)
    cache = tmp_path / "cache"

    first = data.load_dataset("cifar10", num_val=5, dtype=np.uint8, data_dir=cache, seed=3)
    assert requests == ["/cifar.tar.gz"]
    assert (cache / "cifar-10-python.tar.gz").read_bytes() == body
    assert [p.name for p in cache.iterdir()] == ["cifar-10-python.tar.gz"]

    second = data.load_dataset("cifar10", num_val=5, dtype=np.uint8, data_dir=cache, seed=3)
    assert requests == ["/cifar.tar.gz"], "the second call must not download again"
    for key in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(first[key], second[key])

    # Contents: the official row layout (3072 = 3 planes of 32x32) becomes (N, 3, 32, 32).
    assert first["X_train"].shape == (5 * TRAIN_PER_BATCH - 5, 3, 32, 32)
    assert first["X_val"].shape == (5, 3, 32, 32)
    assert first["X_test"].shape == (NUM_TEST, 3, 32, 32)
    assert first["y_train"].dtype == np.int64
    assert first["class_names"] == CLASS_NAMES
    test = batches["test_batch"]
    np.testing.assert_array_equal(first["X_test"][0, 1], test[b"data"][0, 1024:2048].reshape(32, 32))
    np.testing.assert_array_equal(first["y_test"], test[b"labels"])
    # Train and val partition the 5 training batches.
    all_train = np.concatenate([batches[f"data_batch_{i}"][b"data"] for i in range(1, 6)])
    ours = np.concatenate([first["X_train"], first["X_val"]]).reshape(-1, 3072)
    assert sorted(map(bytes, ours)) == sorted(map(bytes, all_train))


def test_cifar10_float_mode_subtracts_training_mean(tmp_path, monkeypatch, tiny_archive):
    body, _ = tiny_archive
    archive = tmp_path / "served.tar.gz"
    archive.write_bytes(body)
    _use_archive(monkeypatch, archive.as_uri(), body)  # a file:// URL works too
    d = data.load_dataset("cifar10", num_val=4, num_test=3, data_dir=tmp_path / "cache")
    raw = data.load_dataset("cifar10", num_val=4, num_test=3, dtype=np.uint8, data_dir=tmp_path / "cache")
    assert d["X_test"].shape == (3, 3, 32, 32) and d["mean_image"].shape == (3, 32, 32)
    np.testing.assert_allclose(d["mean_image"], (raw["X_train"] / 255.0).mean(axis=0))
    np.testing.assert_allclose(d["X_val"], raw["X_val"] / 255.0 - d["mean_image"])


def test_cifar10_wrong_checksum_raises_and_caches_nothing(tmp_path, monkeypatch, served, tiny_archive):
    body, _ = tiny_archive
    serve, _ = served
    monkeypatch.setattr(datasets, "CIFAR10_URL", serve("/cifar.tar.gz", body))
    monkeypatch.setattr(datasets, "CIFAR10_SHA256", "0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match=r"corrupt: its SHA-256 is .* expected 0{64}"):
        data.load_dataset("cifar10", num_val=2, data_dir=cache)
    assert list(cache.iterdir()) == []


def test_cifar10_truncated_archive_raises_and_caches_nothing(tmp_path, monkeypatch, served, tiny_archive):
    body, _ = tiny_archive
    serve, _ = served
    cache = tmp_path / "cache"
    # A short file served as it is: only the checksum can tell.
    _use_archive(monkeypatch, serve("/short.tar.gz", body[: len(body) // 2]), body)
    with pytest.raises(OSError, match="corrupt"):
        data.load_dataset("cifar10", num_val=2, data_dir=cache)
    assert list(cache.iterdir()) == []
    # A connection that ends before the announced Content-Length.
    _use_archive(monkeypatch, serve("/cut.tar.gz", body[:100], length=len(body)), body)
    with pytest.raises(OSError, match=f"truncated: received 100 of {len(body)} bytes"):
        data.load_dataset("cifar10", num_val=2, data_dir=cache)
    assert list(cache.iterdir()) == []


def test_cifar10_damaged_cache_is_reported(tmp_path, monkeypatch, tiny_archive):
    body, _ = tiny_archive
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "cifar-10-python.tar.gz").write_bytes(body[:-10])
    monkeypatch.setattr(datasets, "CIFAR10_URL", (tmp_path / "missing.tar.gz").as_uri())
    monkeypatch.setattr(datasets, "CIFAR10_SHA256", hashlib.sha256(body).hexdigest())
    with pytest.raises(OSError, match=r"cached CIFAR-10 archive .* is damaged.*Delete it"):
        data.load_dataset("cifar10", num_val=2, data_dir=cache)


def test_cifar10_unreadable_archive_is_reported(tmp_path, monkeypatch):
    junk = b"not a tar archive" * 10
    (tmp_path / "junk").write_bytes(junk)
    _use_archive(monkeypatch, (tmp_path / "junk").as_uri(), junk)
    with pytest.raises(OSError, match="not a readable CIFAR-10 python archive"):
        data.load_dataset("cifar10", num_val=2, data_dir=tmp_path / "cache")


def test_cifar10_cache_folder_defaults_to_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "from_env"))
    assert data.default_data_dir() == tmp_path / "from_env"


def test_official_checksum_is_the_python_archive_sha256():
    # SHA-256 of cifar-10-python.tar.gz (170,498,071 bytes), not of the binary version.
    assert datasets.CIFAR10_URL.endswith("/cifar-10-python.tar.gz")
    assert datasets.CIFAR10_SHA256 == "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


# ---------------------------------------------------------------- preprocessing


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return rng.normal(2.0, 3.0, size=(50, 3, 4, 4)) * np.array([1.0, 2.0, 0.5])[:, None, None]


def test_mean_image_fit_on_train_applies_to_any_split(images):
    train, val = images[:40], images[40:]
    mean_image = data.fit_mean_image(train)
    assert mean_image.shape == (3, 4, 4)
    np.testing.assert_allclose(data.subtract_mean_image(train, mean_image).mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(data.subtract_mean_image(val, mean_image), val - train.mean(axis=0))


def test_channel_mean_gives_zero_mean_channels(images):
    channel_mean = data.fit_channel_mean(images)
    assert channel_mean.shape == (3,)
    centred = data.subtract_channel_mean(images, channel_mean)
    np.testing.assert_allclose(centred.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    assert np.abs(centred.mean(axis=0)).max() > 1e-3  # per channel, not per pixel


@pytest.mark.parametrize("per, axes", [("channel", (0, 2, 3)), ("feature", (0,))])
def test_standardization_gives_zero_mean_unit_std(images, per, axes):
    mean, std = data.fit_standardization(images, per=per)
    out = data.standardize(images, mean, std)
    np.testing.assert_allclose(out.mean(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=axes), 1, atol=1e-6)


def test_standardization_of_2d_data_and_float32(images):
    X = images.reshape(50, -1).astype(np.float32)
    mean, std = data.fit_standardization(X, per="feature")
    out = data.standardize(X, mean, std)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-4)
    with pytest.raises(ValueError, match="X_train must have shape \\(N, C, H, W\\) when per='channel'"):
        data.fit_standardization(X, per="channel")


def test_pca_with_all_components_reconstructs_exactly(images):
    mean, basis, variances = data.fit_pca(images)
    assert basis.shape == (48, 48) and variances.shape == (48,)
    np.testing.assert_allclose(basis.T @ basis, np.eye(48), atol=1e-10)
    assert np.all(np.diff(variances) <= 1e-12)
    rebuilt = data.pca_reconstruct(data.pca_project(images, mean, basis), mean, basis)
    np.testing.assert_allclose(rebuilt.reshape(images.shape), images, atol=1e-10)


def test_pca_top_components_capture_the_largest_variance():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 3)) * np.array([5.0, 1.0, 0.1])
    mean, basis, variances = data.fit_pca(X, num_components=1)
    assert basis.shape == (3, 1)
    np.testing.assert_allclose(np.abs(basis[:, 0]), [1, 0, 0], atol=0.02)
    Z = data.pca_project(X, mean, basis)
    np.testing.assert_allclose(Z.var(axis=0), variances)
    with pytest.raises(ValueError, match="num_components must be at most"):
        data.fit_pca(X, num_components=4)


def test_whitened_training_data_has_identity_covariance():
    rng = np.random.default_rng(2)
    mixing = rng.normal(size=(5, 5))
    X = rng.normal(size=(400, 5)) @ mixing + 3.0
    mean, basis, variances = data.fit_pca(X)
    W = data.whiten(X, mean, basis, variances, eps=1e-8)
    np.testing.assert_allclose(W.mean(axis=0), 0, atol=1e-12)
    covariance = W.T @ W / len(W)
    np.testing.assert_allclose(covariance, np.eye(5), atol=1e-5)
    np.testing.assert_allclose(covariance, np.diag(variances / (variances + 1e-8)), atol=1e-12)
    # eps shrinks the low-variance directions instead of blowing them up.
    W_eps = data.whiten(X, mean, basis, variances, eps=variances[-1])
    np.testing.assert_allclose(W_eps.var(axis=0)[-1], 0.5)


def test_preprocessing_rejects_bad_shapes(images):
    with pytest.raises(ValueError, match="X_train must have shape \\(N, C, H, W\\), got shape \\(50, 48\\)"):
        data.fit_mean_image(images.reshape(50, -1))
    with pytest.raises(ValueError, match="mean_image must have shape \\(C, H, W\\)"):
        data.subtract_mean_image(images, np.zeros((3, 5, 5)))
    with pytest.raises(ValueError, match="channel_mean must have shape \\(C,\\)"):
        data.subtract_channel_mean(images, np.zeros(4))
    with pytest.raises(ValueError, match="X must have shape \\(N, C, H, W\\) or \\(N, D\\)"):
        data.pca_project(images[0, 0, 0], np.zeros(4), np.eye(4))
    mean, basis, _ = data.fit_pca(images, num_components=3)
    with pytest.raises(ValueError, match="basis must have shape \\(47, k\\)"):
        data.pca_project(images.reshape(50, -1)[:, :47], mean[:47], basis)
    with pytest.raises(ValueError, match="per must be one of"):
        data.fit_standardization(images, per="pixel")


# ---------------------------------------------------------------- augmentation


@pytest.fixture
def batch():
    return np.random.default_rng(5).random((16, 3, 6, 6))


def test_flip_really_flips_the_chosen_images(batch):
    out = data.random_horizontal_flip(batch, np.random.default_rng(0), p=0.5)
    flipped = [np.array_equal(o, x[..., ::-1]) for o, x in zip(out, batch)]
    kept = [np.array_equal(o, x) for o, x in zip(out, batch)]
    assert all(f != k for f, k in zip(flipped, kept))
    assert 0 < sum(flipped) < len(batch)
    np.testing.assert_array_equal(data.random_horizontal_flip(batch, 0, p=1.0), batch[..., ::-1])


def test_flip_with_p0_is_identity_and_leaves_input_alone(batch):
    original = batch.copy()
    out = data.random_horizontal_flip(batch, np.random.default_rng(0), p=0.0)
    np.testing.assert_array_equal(out, batch)
    data.random_horizontal_flip(batch, np.random.default_rng(0), p=1.0)
    np.testing.assert_array_equal(batch, original)


def test_random_crop_shifts_content_and_pads_with_zeros():
    X = np.arange(1, 1 + 2 * 1 * 5 * 5, dtype=np.float32).reshape(2, 1, 5, 5)
    out = data.random_crop(X, np.random.default_rng(0), padding=2)
    assert out.shape == X.shape and out.dtype == np.float32
    padded = np.pad(X, ((0, 0), (0, 0), (2, 2), (2, 2)))
    for image, original in zip(out, padded):
        windows = [
            (top, left)
            for top in range(5)
            for left in range(5)
            if np.array_equal(image, original[:, top : top + 5, left : left + 5])
        ]
        assert len(windows) == 1  # the crop is exactly one window of the padded image
    # Over many images some content moves and zeros come in.
    many = data.random_crop(np.ones((50, 1, 5, 5)), np.random.default_rng(1), padding=2)
    assert (many == 0).any() and (many == 1).all(axis=(1, 2, 3)).any()
    np.testing.assert_array_equal(data.random_crop(X, 0, padding=0), X)


def _mean_grey(images):
    """Mean luma of each image of a (N, 3, H, W) batch."""
    return np.einsum("nchw,c->n", images, [0.299, 0.587, 0.114]) / (images.shape[2] * images.shape[3])


def test_color_jitter_factors_and_grey_images():
    X = np.random.default_rng(3).random((8, 3, 4, 4))
    np.testing.assert_allclose(data.color_jitter(X, 0), X)  # all strengths 0
    bright = data.color_jitter(X, np.random.default_rng(0), brightness=0.5)
    ratios = bright / X
    np.testing.assert_allclose(ratios, ratios[:, :1, :1, :1] * np.ones_like(X))
    assert np.all((ratios[:, 0, 0, 0] >= 0.5) & (ratios[:, 0, 0, 0] <= 1.5))
    contrast = data.color_jitter(X, np.random.default_rng(0), contrast=0.5)
    np.testing.assert_allclose(_mean_grey(contrast), _mean_grey(X))  # contrast keeps the mean grey level
    grey = np.repeat(X[:, :1], 3, axis=1)  # R = G = B: nothing to saturate
    np.testing.assert_allclose(data.color_jitter(grey, 0, saturation=0.9), grey)
    single = X[:, :1]
    np.testing.assert_allclose(data.color_jitter(single, 0, saturation=0.9), single)
    assert not np.allclose(data.color_jitter(X, 0, saturation=0.9), X)
    with pytest.raises(ValueError, match="floating-point"):
        data.color_jitter((X * 255).astype(np.uint8), 0, brightness=0.1)


def test_augmentation_is_reproducible_with_a_seed(batch):
    for augment in (
        lambda rng: data.random_horizontal_flip(batch, rng),
        lambda rng: data.random_crop(batch, rng, padding=2),
        lambda rng: data.color_jitter(batch, rng, 0.3, 0.3, 0.3),
        lambda rng: data.mixup(batch, np.arange(16) % 4, 4, rng, alpha=1.0)[0],
    ):
        np.testing.assert_array_equal(augment(np.random.default_rng(7)), augment(np.random.default_rng(7)))
        assert not np.array_equal(augment(np.random.default_rng(7)), augment(np.random.default_rng(8)))


def test_mixup_targets_sum_to_one_and_mixing_is_convex():
    num_images = 12
    # Image k is constant k and has class k, so the targets say exactly how it was mixed.
    X = np.broadcast_to(np.arange(num_images, dtype=np.float64)[:, None, None, None], (num_images, 1, 3, 3)).copy()
    y = np.arange(num_images)
    X_mixed, targets = data.mixup(X, y, num_images, np.random.default_rng(0), alpha=0.4)
    assert X_mixed.shape == X.shape and targets.shape == (num_images, num_images)
    np.testing.assert_allclose(targets.sum(axis=1), 1)
    assert targets.min() >= 0 and (np.count_nonzero(targets, axis=1) <= 2).all()
    np.testing.assert_allclose(X_mixed[:, 0, 0, 0], targets @ np.arange(num_images))
    np.testing.assert_allclose(X_mixed, X_mixed[:, :, :1, :1] * np.ones_like(X))
    assert ((targets > 0) & (targets < 1)).any()  # something was actually mixed


def test_augmentation_rejects_bad_input(batch):
    with pytest.raises(ValueError, match="X must have shape \\(N, C, H, W\\), got shape \\(3, 6, 6\\)"):
        data.random_horizontal_flip(batch[0], 0)
    with pytest.raises(ValueError, match="p must be a probability"):
        data.random_horizontal_flip(batch, 0, p=1.5)
    with pytest.raises(ValueError, match="padding"):
        data.random_crop(batch, 0, padding=-1)
    with pytest.raises(ValueError, match="C = 1 or 3"):
        data.color_jitter(np.zeros((2, 2, 4, 4)), 0, brightness=0.1)
    with pytest.raises(ValueError, match="y must have shape \\(16,\\)"):
        data.mixup(batch, np.zeros(3, dtype=int), 10, 0)
    with pytest.raises(ValueError, match="y must hold labels in \\[0, 4\\)"):
        data.mixup(batch, np.arange(16), 4, 0)


def test_lesson_data_describes_and_caps_the_dataset(capsys):
    full = data.lesson_data("digits")
    assert "digits: 1257 training, 270 validation and 270 test images of shape (1, 8, 8)" in capsys.readouterr().out
    assert full["info"] is data.DATASETS["digits"]
    assert (full["num_classes"], full["input_dim"]) == (10, 64)
    capped = data.lesson_data("digits", max_train=500)
    assert capped["X_train"].shape == (500, 1, 8, 8)
    np.testing.assert_allclose(capped["X_train"].mean(axis=0), 0, atol=1e-12)
    assert data.lesson_data("digits", max_train=5000)["X_train"].shape[0] == 1257
    with pytest.raises(ValueError, match="max_train must be a whole number"):
        data.lesson_data("digits", max_train=2.5)


def test_lesson_data_follows_the_switch(monkeypatch):
    monkeypatch.setenv("COURSE_DATASET", "imagenet")
    with pytest.raises(ValueError, match="COURSE_DATASET"):
        data.lesson_data()
