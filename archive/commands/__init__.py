"""Work the CLI does on the operator's behalf, over the services: importing a folder of
documents (:mod:`archive.commands.batch`) and loading the demo (:mod:`archive.commands.demo`).
Like every command they open the backends through :class:`archive.backends.Backends`."""
