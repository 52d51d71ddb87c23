"""Tests of planner.db."""
