// KilnStore module
