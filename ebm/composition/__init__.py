"""Compositional generation (the paper's Figures 14-16): dSprites factors, the factor judge, summed and
alternating factor EBMs, the cross-product protocol, the 2-D toy.

This package imports nothing: import its modules themselves, so that a stage's DVC deps are the
modules it uses.
"""
