"""The dataset on the device as uint8, augmented there one batch at a time.

The fastest CIFAR-10 trainers keep every image on the GPU (150 MB for CIFAR-10
as uint8) and augment whole batches with a few tensor operations, so no CPU
data loader stands between the GPU and its next batch. The same code runs on
the CPU.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from course_lib.checks import check_array, check_count, check_labels


def crop(images, padding, top, left):
    """Crop each zero-padded image at its own offset, back to the original size.

    Inputs:
    - images: tensor of shape (N, C, H, W), any dtype.
    - padding: zeros added on each side before cropping, an int >= 0.
    - top, left: int64 tensors of shape (N,) with values in [0, 2 * padding]:
      the corner of image n's window in the padded image.

    Returns a tensor of shape (N, C, H, W): out[n] = padded[n, :, top[n]:top[n]+H,
    left[n]:left[n]+W]. One gather for the whole batch, so it is fast on a GPU.
    """
    n, c, h, w = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    rows = top[:, None] + torch.arange(h, device=images.device)  # (N, H)
    cols = left[:, None] + torch.arange(w, device=images.device)  # (N, W)
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    channel = torch.arange(c, device=images.device)[None, :, None, None]
    return padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]


def random_crop(images, padding, generator):
    """Crop each image at a random offset of its zero-padded version.

    Inputs:
    - images: tensor of shape (N, C, H, W).
    - padding: zeros added on each side; 0 returns the images unchanged.
    - generator: a torch.Generator on the images' device.

    Returns a tensor of shape (N, C, H, W): each image shifted by up to
    `padding` pixels in each direction, uncovered pixels zero.
    """
    if padding == 0:
        return images
    offsets = torch.randint(0, 2 * padding + 1, (2, images.shape[0]), generator=generator, device=images.device)
    return crop(images, padding, offsets[0], offsets[1])


def flip_where(images, mask):
    """Mirror the images selected by `mask` left to right.

    Inputs:
    - images: tensor of shape (N, C, H, W).
    - mask: bool tensor of shape (N,); True flips that image.

    Returns a tensor of shape (N, C, H, W).
    """
    return torch.where(mask[:, None, None, None], images.flip(-1), images)


def random_flip(images, generator):
    """Mirror each image left to right with probability 1/2.

    Inputs:
    - images: tensor of shape (N, C, H, W).
    - generator: a torch.Generator on the images' device.

    Returns a tensor of shape (N, C, H, W).
    """
    mask = torch.rand(images.shape[0], generator=generator, device=images.device) < 0.5
    return flip_where(images, mask)


class DeviceDataset:
    """A whole split kept on the device as uint8, served in (augmented) batches.

    Inputs:
    - images: uint8 numpy array of shape (N, C, H, W), pixels 0..255.
    - labels: integer numpy array of shape (N,).
    - device: the torch.device to keep the data on.
    - batch_size: images per batch.
    - train: True shuffles every epoch, augments, and drops the last partial
      batch (a batch of one would break batchnorm); False serves the images
      in order, unchanged, down to the last one.
    - crop_padding, flip: the augmentation used when train is True.
    - channels_last: serve batches in channels-last memory format (GPU).
    - seed: seeds the shuffling and augmentation.

    Iterating yields (x, y): x uint8 of shape (B, C, H, W), y int64 of shape (B,).
    When train is True and N < batch_size, an epoch is one batch of all N images.
    """

    def __init__(
        self, images, labels, device, batch_size, train=False, crop_padding=0, flip=False, channels_last=False, seed=0
    ):
        images = check_array("images", images, ndim=4, dims="(N, C, H, W)")
        if images.dtype != np.uint8:
            raise ValueError(f"images must hold uint8 pixels 0..255, got dtype {images.dtype}")
        if len(images) == 0:
            raise ValueError("images must hold at least one image, got shape " + str(images.shape))
        labels = check_labels("labels", labels, images.shape[0])
        batch_size = check_count("batch_size", batch_size)
        crop_padding = check_count("crop_padding", crop_padding, allow_zero=True)
        self.images = torch.as_tensor(images).to(device, non_blocking=True)
        self.labels = torch.as_tensor(labels, dtype=torch.int64).to(device, non_blocking=True)
        self.device = torch.device(device)
        self.batch_size = min(batch_size, len(self.labels)) if train else batch_size
        self.train = train
        self.crop_padding = crop_padding
        self.flip = flip
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    def __len__(self):
        """Number of batches in one epoch."""
        if self.train:
            return len(self.labels) // self.batch_size
        return math.ceil(len(self.labels) / self.batch_size)

    def __iter__(self):
        count = len(self.labels)
        if self.train:
            order = torch.randperm(count, generator=self.generator, device=self.device)
        else:
            order = torch.arange(count, device=self.device)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            index = order[start : start + self.batch_size]
            x, y = self.images[index], self.labels[index]
            if self.train:
                x = random_crop(x, self.crop_padding, self.generator)
                if self.flip:
                    x = random_flip(x, self.generator)
            yield x.contiguous(memory_format=self.memory_format), y


def channel_statistics(images):
    """Return the mean and standard deviation of each channel of uint8 images.

    Inputs:
    - images: uint8 tensor of shape (N, C, H, W), on any device.

    Returns (mean, std), float32 numpy arrays of shape (C,) in pixel units; std
    is at least 1 (one grey level), so a constant channel cannot divide by zero.
    Computed on the images' device one channel at a time: a float copy of all
    of CIFAR-10 at once would take 600 MB.
    """
    std, mean = zip(*(torch.std_mean(images[:, channel].float()) for channel in range(images.shape[1])))
    return torch.stack(mean).cpu().numpy(), torch.stack(std).clamp(min=1.0).cpu().numpy()
