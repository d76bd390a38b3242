"""The popularity model: splits, CatBoost training, calibration, evaluation and inference.

Entry points: :func:`engine.model.train.train`, :func:`engine.model.evaluate.evaluate`,
:func:`engine.model.predict.predict_one`. Submodules are imported on use (CatBoost is heavy).
"""
