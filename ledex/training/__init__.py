"""Training: SFT data and trainer, LEDEX rewards, the PPO trainer, the learned reward model."""
