// KilnDataset module
