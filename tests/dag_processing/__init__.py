"""Tests of the DAG processor: parsing in child processes, storing, the command."""
