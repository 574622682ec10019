"""``renkei retention run``: the jobs of the retention model, and the run that does them in order."""
