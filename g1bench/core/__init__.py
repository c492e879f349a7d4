"""Game-independent machinery: configs, the game contract, answer parsing, the env and batches."""
