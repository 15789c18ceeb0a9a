"""Hand trajectories (the paper's §4.5, Figures 12-13): record with MuJoCo, model, roll out, score.

policy    the scripted finger-gait controller (every 4th action random)
record    trajectories from the real simulator; the 31-d state (hand joints + block pose)
render    draw any state, recorded or generated, offscreen
data      standardised coordinates: states, steps, windows
models    conditional / window EBMs (MLPEnergy), FC and LSTM baselines
baselines MSE training of the baselines (the EBMs use ebm.training.Trainer)
rollout   generating trajectories state by state
metrics   Fréchet distances at several horizons

Nothing is imported here: the recording (policy, record, render) must not pull in the models, so
that the `record` stage's DVC deps hold none of their code. Import from the modules.
"""
