"""The product's front ends: the HTTP API (`app.api`) and, later, the Gradio UI; thin layers over `core`."""
