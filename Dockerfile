# weylfem image: Debian bookworm with the same set-up CI tests (scripts/install.sh).
#   docker build -t weylfem .
#   docker run --rm -v "$PWD/out:/work/out" weylfem run --out /work/out/default
FROM debian:bookworm

ENV DEBIAN_FRONTEND=noninteractive \
    OMPI_ALLOW_RUN_AS_ROOT=1 \
    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    OMP_NUM_THREADS=1 \
    VTK_DEFAULT_OPENGL_WINDOW=vtkOSOpenGLRenderWindow

COPY . /opt/weylfem
RUN bash /opt/weylfem/scripts/install.sh \
    && rm -rf /var/lib/apt/lists/* /root/.cache/pip

ENV PATH=/opt/weylfem/.venv/bin:$PATH
WORKDIR /work
ENTRYPOINT ["weylfem"]
CMD ["--help"]
