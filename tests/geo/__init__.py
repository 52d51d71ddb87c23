"""Tests of planner.geo."""
