from ebm.evaluation.classifier import ClassifierConfig, SmallCNN, predict, train_classifier
from ebm.evaluation.frechet import frechet_distance

__all__ = ["ClassifierConfig", "SmallCNN", "frechet_distance", "predict", "train_classifier"]
