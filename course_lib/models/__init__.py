"""Models assembled from course_lib's layers: `model.params` and `model.loss(X, y=None)`."""

from course_lib.models.conv_net import ThreeLayerConvNet
from course_lib.models.fc_net import FullyConnectedNet

__all__ = ["FullyConnectedNet", "ThreeLayerConvNet"]
