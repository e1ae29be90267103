"""The write path: a submission checked, throttled, group-committed, then put in the index."""
