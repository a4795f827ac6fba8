"""The LEDEX pipeline's DVC stages (`python -m stages.<name>`) and the helpers they share."""
