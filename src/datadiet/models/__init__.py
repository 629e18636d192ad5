"""Networks of the two papers (ResNet18/34/50, VGG16, basic_cnn) and small CPU-friendly ones, by name."""

from datadiet.models.registry import count_parameters, create_model, list_models

__all__ = ["count_parameters", "create_model", "list_models"]
