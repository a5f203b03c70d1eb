// KilnEngine module
