"""One router per part of the product."""
