"""What several test modules share: the service as a process, throwaway databases, private
PostgreSQL and Redis servers, clients of a running service, the books' checks, and the common
steps of API tests (binding an account, calling a model). Test modules import from here, never
from each other."""
