"""Backprop: spaced-repetition practice for deep-learning interviews."""
