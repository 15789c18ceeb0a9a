"""Standard image-generation metrics (FID, IS, KID) on the original's sampling protocol."""

from ebm.imagemetrics.protocol import protocol_samples, seeded_protocol_samples, to_uint8
from ebm.imagemetrics.scores import Given, ScoreConfig, extract, image_scores

__all__ = ["Given", "ScoreConfig", "extract", "image_scores", "protocol_samples", "seeded_protocol_samples", "to_uint8"]
