"""Domain services, one module per process; they take keyword-only arguments, never
import FastAPI, and raise the errors of :mod:`archive.errors`."""
