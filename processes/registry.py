"""The published OGC API processes: id -> processor class (pygeoapi plugin, by dotted path).

One line per process; `artois-geo serve` publishes each as /processes/{id}.
"""
PROCESSES: dict[str, str] = {
}
