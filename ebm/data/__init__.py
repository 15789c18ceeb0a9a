"""Datasets as arrays: images uint8 [N, C, H, W] with int64 labels [N]."""

from ebm.data.arrays import dequantize, stratified_split, uniform_like
from ebm.data.digits import load_digits

__all__ = ["dequantize", "load_digits", "stratified_split", "uniform_like"]
