"""Tests of planner.io."""
