// KilnWorker module
