# weylfem image: Debian trixie (DOLFINx 0.9, PETSc 3.22) with the same set-up CI tests
# (scripts/install.sh).  For DOLFINx 0.11 use `--build-arg DEBIAN=sid`.
#   docker build -t weylfem .
#   docker run --rm -v "$PWD/out:/work/out" weylfem run --out /work/out/default
ARG DEBIAN=trixie
FROM debian:${DEBIAN}

ENV DEBIAN_FRONTEND=noninteractive \
    OMPI_ALLOW_RUN_AS_ROOT=1 \
    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    OMP_NUM_THREADS=1

COPY . /opt/weylfem
RUN bash /opt/weylfem/scripts/install.sh \
    && rm -rf /var/lib/apt/lists/* /root/.cache/pip

ENV PATH=/opt/weylfem/.venv/bin:$PATH
WORKDIR /work
ENTRYPOINT ["weylfem"]
CMD ["--help"]
