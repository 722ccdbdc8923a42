"""What the instructor view reports, per course context: the gradebook of learners
by modules (``gradebook``), its CSV export (``export``) and per-question statistics
(``item_stats``). Every query here filters by the context it is given."""
