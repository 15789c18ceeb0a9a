"""Hand trajectories (the paper's §4.5, Figures 12-13): record with MuJoCo, model, roll out, score.

policy    the scripted finger-gait controller (every 4th action random)
record    trajectories from the real simulator; the 31-d state (hand joints + block pose)
render    draw any state, recorded or generated, offscreen
data      standardised coordinates: states, steps, windows
models    conditional / window EBMs (MLPEnergy), FC and LSTM baselines
baselines MSE training of the baselines (the EBMs use ebm.training.Trainer)
rollout   generating trajectories state by state
metrics   Fréchet distances at several horizons
"""

from ebm.trajectories.baselines import RegressionConfig, train_fc, train_lstm
from ebm.trajectories.data import Coder, next_step_pairs, windows
from ebm.trajectories.metrics import horizon_fd, motion_scale, segments
from ebm.trajectories.models import (FCConfig, FCPredictor, LSTMConfig, LSTMPredictor, NetConfig, conditional_energy,
                                       build_trajectory_model, window_energy)
from ebm.trajectories.policy import FingerGait, GaitConfig
from ebm.trajectories.record import STATE_DIM, RecordConfig, make_env, motion_stats, record, record_one
from ebm.trajectories.rollout import (ChainConfig, chain_start, ebm_step, newest_step_start, window_starts,
                                       fc_step, rollout_lstm, rollout_steps, rollout_window, sample_windows)

__all__ = [
    "STATE_DIM", "ChainConfig", "Coder", "chain_start", "newest_step_start", "window_starts", "FCConfig", "FCPredictor", "FingerGait", "GaitConfig", "LSTMConfig", "LSTMPredictor", "NetConfig",
    "RecordConfig", "RegressionConfig", "conditional_energy", "ebm_step", "fc_step", "horizon_fd", "make_env",
    "motion_scale", "motion_stats", "next_step_pairs", "record", "record_one", "rollout_lstm", "rollout_steps",
    "rollout_window", "sample_windows", "segments", "train_fc", "train_lstm", "build_trajectory_model", "window_energy",
    "windows",
]
