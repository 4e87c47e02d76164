"""The service over loopback HTTP (uvicorn), killed processes, load, the benchmark."""
