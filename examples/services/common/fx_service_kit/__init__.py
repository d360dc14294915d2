"""Code shared by the sample FastAPI services (orders-api, inventory-api).

Shipped inside each service's image next to the service package (see the
services' Dockerfiles); on the test path through run-tests.sh.
"""
