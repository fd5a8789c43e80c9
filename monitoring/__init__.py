"""What operators watch: Prometheus metrics (`metrics.py`) and logs a log system can read
(`logs.py`). A leaf: it imports nothing of ours, so every package may record into it."""
