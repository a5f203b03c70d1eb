// KilnServer module
