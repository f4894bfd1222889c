"""Utilities as in torch.utils; for now only utils.data (TensorDataset, DataLoader)."""
from . import data

__all__ = ["data"]
