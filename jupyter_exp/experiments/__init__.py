"""Experiments: commits under ``refs/exps/`` that DVC lists and applies."""
