"""Encoding the dataset once: video latents, audio latents, caption embeddings, cached on disk."""
