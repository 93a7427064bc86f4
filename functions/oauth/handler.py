"""Entry point reserved for the 'oauth' capability.

Its logic and its routes or queue arrive with the issue that builds the capability (see README, "Capabilities");
until then the function is not part of infra/definitions.py, so it is neither deployed nor served locally.
"""
