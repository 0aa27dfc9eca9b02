"""The command lines: ``scripts/train.py`` (`train`) and ``scripts/rates.py`` (`rates`)."""
