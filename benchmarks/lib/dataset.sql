-- The benchmark table: 7 columns of mixed types, about 120 bytes a row on disk.
-- psql variables: :tbl (table name), :rows.
DROP TABLE IF EXISTS :tbl;
CREATE TABLE :tbl (
  id          bigint NOT NULL,
  account_id  bigint NOT NULL,
  label       text NOT NULL,
  qty         int NOT NULL,
  amount      numeric(12, 2) NOT NULL,
  note        text,
  created_at  timestamptz NOT NULL
);
INSERT INTO :tbl
SELECT g,
       (g * 7919) % 1000003,
       'item-' || substr(md5(g::text), 1, 24),
       (g % 1000)::int,
       round(((g * 37) % 10000000) / 100.0, 2),
       CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || md5((g * 3)::text) END,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'
FROM generate_series(1::bigint, :rows) g;
ALTER TABLE :tbl ADD PRIMARY KEY (id);
VACUUM ANALYZE :tbl;
