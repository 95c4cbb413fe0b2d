# install rules: written by the packaging work
