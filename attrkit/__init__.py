"""attrkit: Integrated Gradients and Adversarial Gradient Integration, step by step."""
